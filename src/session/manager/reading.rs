//! Which copy of a session a request is served: refreshed tokens not yet written, else the
//! cache, else the store (sliding the idle timeout); and when a stored session is dead (past its
//! absolute end, or not opening with its id), which removes it for good.

use std::sync::Arc;

use actix_web::HttpRequest;

use super::SessionManager;
use super::Slide;
use crate::session::Session;
use crate::session::record::{SESSION_KIND, decode};
use crate::store::StoreError;

impl SessionManager {
    /// Loads the live session of this request, sliding its idle timeout. `Ok(None)` when there is
    /// no cookie, no such session, or it expired; `Err` only when the store cannot answer.
    pub async fn load(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<(String, Arc<Session>)>, StoreError> {
        self.load_with(req, Slide::Yes).await
    }

    /// [`SessionManager::load`], sliding the idle timeout or not (a poll that must not keep the
    /// session alive).
    #[tracing::instrument(level = "debug", name = "session.load", skip_all)]
    pub async fn load_with(
        &self,
        req: &HttpRequest,
        slide: Slide,
    ) -> Result<Option<(String, Arc<Session>)>, StoreError> {
        let Some(id) = self.cookies.session_id(req) else {
            return Ok(None);
        };
        let key = self.key(SESSION_KIND, &id);
        let held = self.unsaved_of(&key).or_else(|| self.cache.get(&key));
        let session = match held.filter(|s| self.timeouts.within_deadline(s)) {
            Some(s) => Some(s),
            None => self.read(&id, &key, slide).await?,
        };
        if let Some(s) = &session {
            actix_web::HttpMessage::extensions_mut(req)
                .insert(crate::telemetry::SessionSub(s.sub.clone()));
        }
        Ok(session.map(|s| (id, s)))
    }

    /// Reads a session from the store (never the cache), sliding its idle timeout, and caches it.
    pub(in crate::session) async fn load_by_id(
        &self,
        id: &str,
        key: &str,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        self.read(id, key, Slide::Yes).await
    }

    async fn read(
        &self,
        id: &str,
        key: &str,
        slide: Slide,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        // Newer than the store's copy: tokens a refresh got that still wait to be written.
        if let Some(s) = self.unsaved_of(key) {
            return Ok(Some(s));
        }
        let slide = (slide == Slide::Yes).then_some(self.timeouts.idle);
        let Some(stored) = self.store.get(key, slide).await? else {
            self.cache.ended(key);
            return Ok(None);
        };
        match decode(id, key, &stored) {
            Some(s) if self.timeouts.within_deadline(&s) => {
                let s = Arc::new(s);
                self.cache.put(key.to_owned(), s.clone());
                Ok(Some(s))
            }
            _ => {
                // Past the absolute timeout, or unreadable: remove it for good.
                self.cache.ended(key);
                self.store.delete(key).await?;
                Ok(None)
            }
        }
    }

    /// Tokens a refresh got for session `key` that still wait to be written, unless it ended
    /// meanwhile (an ended session is never served from them).
    fn unsaved_of(&self, key: &str) -> Option<Arc<Session>> {
        self.unsaved.get(key).filter(|_| !self.cache.was_ended(key))
    }
}
