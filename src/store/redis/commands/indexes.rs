//! The commands of the indexes: sets (`SADD`…), and small indexes as hashes whose fields are
//! the members (`HSET`…), which Redis keeps as a listpack (a few bytes a member) while they are
//! small, where a set of one member is a hash table of its own (about 340 bytes in Redis 7.0).
//! Both are extended, never shortened, by each add (`PEXPIRE … GT`), so an index outlives every
//! member.

use std::time::Duration;

use super::{RedisStore, millis, unavailable};
use crate::store::StoreError;
use crate::store::redis::connection::Retry;

/// How a collection is kept: the command that adds, the one that lists, the one that removes.
#[derive(Clone, Copy)]
pub(super) enum Collection {
    Set,
    Hash,
}

impl Collection {
    fn add(self, pipe: &mut redis::Pipeline, key: &str, member: &str) {
        match self {
            Collection::Set => pipe.cmd("SADD").arg(key).arg(member),
            // The field is the member; its value is empty.
            Collection::Hash => pipe.cmd("HSET").arg(key).arg(member).arg(""),
        }
        .ignore();
    }

    fn list(self) -> &'static str {
        match self {
            Collection::Set => "SMEMBERS",
            Collection::Hash => "HKEYS",
        }
    }

    fn remove(self) -> &'static str {
        match self {
            Collection::Set => "SREM",
            Collection::Hash => "HDEL",
        }
    }
}

impl RedisStore {
    pub(super) async fn collection_add(
        &self,
        kind: Collection,
        key: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        // Extend the index's expiry, never shorten it (GT), so it outlives every member.
        let mut pipe = redis::pipe();
        pipe.atomic();
        kind.add(&mut pipe, key, member);
        pipe.cmd("PEXPIRE")
            .arg(key)
            .arg(millis(ttl))
            .arg("NX")
            .ignore()
            .cmd("PEXPIRE")
            .arg(key)
            .arg(millis(ttl))
            .arg("GT")
            .ignore();
        self.write(Retry::Always, |mut c| {
            let pipe = &pipe;
            async move { pipe.query_async::<()>(&mut c).await }
        })
        .await
        .map_err(unavailable)
    }

    pub(super) async fn collection_take(
        &self,
        kind: Collection,
        key: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd(kind.list())
            .arg(key)
            .cmd("DEL")
            .arg(key)
            .ignore();
        self.write(Retry::IfNotSent, |mut c| {
            let pipe = &pipe;
            async move { pipe.query_async::<(Vec<String>,)>(&mut c).await }
        })
        .await
        .map(|(members,)| members)
        .map_err(unavailable)
    }

    pub(super) async fn collection_members(
        &self,
        kind: Collection,
        key: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.conns
            .run(Retry::Always, |mut c| async move {
                redis::cmd(kind.list())
                    .arg(key)
                    .query_async::<Vec<String>>(&mut c)
                    .await
            })
            .await
            .map_err(unavailable)
    }

    pub(super) async fn set_sample_of(
        &self,
        key: &str,
        count: usize,
    ) -> Result<Vec<String>, StoreError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.conns
            .run(Retry::Always, |mut c| async move {
                redis::cmd("SRANDMEMBER")
                    .arg(key)
                    .arg(count)
                    .query_async::<Vec<String>>(&mut c)
                    .await
            })
            .await
            .map_err(unavailable)
    }

    pub(super) async fn collection_remove(
        &self,
        kind: Collection,
        key: &str,
        members: &[String],
    ) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd(kind.remove());
        cmd.arg(key).arg(members);
        self.write(Retry::Always, |mut c| {
            let cmd = &cmd;
            async move { cmd.query_async::<()>(&mut c).await }
        })
        .await
        .map_err(unavailable)
    }
}
