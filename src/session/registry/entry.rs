//! [`Entry`]: a session's registry entry, and its plain form before sealing: compact (format
//! 1, see `session::codec`) since this version, JSON before; both are read.
//!
//! ```text
//! 0x01, flags, handle, sub, created_at, [user agent, network], [refresh token (dotted)],
//! [sid], registered_ms
//! ```

use serde::{Deserialize, Serialize};

use crate::session::codec::{Reader, Writer};
use crate::session::device::Device;

/// The first byte of the compact form (JSON begins with `{`).
const VERSION: u8 = 1;

const DEVICE: u8 = 1;
const REFRESH: u8 = 1 << 1;
const SID: u8 = 1 << 2;

/// A session's registry entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct Entry {
    pub(super) handle: String,
    pub(super) sub: String,
    pub(super) created_at: i64,
    /// `None`: written for a session found without an entry (its device is not known).
    pub(super) device: Option<Device>,
    pub(super) refresh_token: Option<String>,
    /// The IdP session it was made in.
    #[serde(default)]
    pub(super) sid: Option<String>,
    /// When it was registered, in Unix milliseconds: orders sessions made within one second
    /// (which is oldest, for `max_per_user`).
    #[serde(default)]
    pub(super) registered_ms: i64,
}

impl Entry {
    /// The plain form, before sealing.
    pub(super) fn to_plain(&self) -> Vec<u8> {
        let mut flags = 0;
        for (set, flag) in [
            (self.device.is_some(), DEVICE),
            (self.refresh_token.is_some(), REFRESH),
            (self.sid.is_some(), SID),
        ] {
            if set {
                flags |= flag;
            }
        }
        let mut w = Writer::new(VERSION);
        w.byte(flags);
        w.token(&self.handle);
        w.token(&self.sub);
        w.int(self.created_at);
        if let Some(device) = &self.device {
            w.bytes(device.user_agent.as_bytes());
            w.bytes(device.ip.as_bytes());
        }
        if let Some(refresh_token) = &self.refresh_token {
            w.dotted(refresh_token);
        }
        if let Some(sid) = &self.sid {
            w.token(sid);
        }
        w.int(self.registered_ms);
        w.finish()
    }

    /// The entry whose plain form is `plain`, compact or JSON.
    pub(super) fn from_plain(plain: &[u8]) -> Option<Self> {
        match plain.first() {
            Some(b'{') => serde_json::from_slice(plain).ok(),
            _ => Self::from_compact(plain),
        }
    }

    fn from_compact(plain: &[u8]) -> Option<Self> {
        let mut r = Reader::new(plain, VERSION)?;
        let flags = r.byte().filter(|f| f & !(DEVICE | REFRESH | SID) == 0)?;
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_owned);
        let handle = r.token()?;
        let sub = r.token()?;
        let created_at = r.int()?;
        let device = if flags & DEVICE == 0 {
            None
        } else {
            Some(Device {
                user_agent: text(r.bytes()?)?,
                ip: text(r.bytes()?)?,
            })
        };
        let refresh_token = if flags & REFRESH == 0 {
            None
        } else {
            Some(r.dotted()?)
        };
        let sid = if flags & SID == 0 {
            None
        } else {
            Some(r.token()?)
        };
        let registered_ms = r.int()?;
        r.end()?;
        Some(Entry {
            handle,
            sub,
            created_at,
            device,
            refresh_token,
            sid,
            registered_ms,
        })
    }
}

#[cfg(test)]
mod tests;
