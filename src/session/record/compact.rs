//! The compact form of a session (format 1), what gets sealed since the JSON form (format 0):
//! no field names, tokens as the bytes their base64url encodes (see `session::codec`), and
//! nothing twice. A login's claims are its ID token's payload, so the payload is kept once, in
//! the token, and the `claims` field holds only the claims that are not in it (those an earlier
//! ID token had and a refreshed one left out); likewise `sub` and `sid` when they are the
//! claims'. A session where that does not hold (an ID token that is not a JWT, claims that
//! differ from its payload) keeps its claims whole: the form never changes a session.
//!
//! ```text
//! 0x01, flags, ID token (dotted), claims (JSON bytes: the extra ones, or all),
//! [sub], [sid], access token (dotted), [refresh token (dotted)], [access_expires_at],
//! [access_lifetime], created_at, logout token, route tokens (count, then each: key,
//! access token (dotted), flags, [expires_at], [lifetime])
//! ```

use std::collections::BTreeMap;

use super::{RouteToken, Session};
use crate::authz::ClaimsCell;
use crate::session::codec::{Reader, Token, Writer, joined, packed};

type Claims = serde_json::Map<String, serde_json::Value>;

/// The first byte of the compact form (JSON begins with `{`).
pub(super) const VERSION: u8 = 1;

const SID: u8 = 1;
const REFRESH: u8 = 1 << 1;
const EXPIRES_AT: u8 = 1 << 2;
const LIFETIME: u8 = 1 << 3;
/// The claims are the ID token's payload, plus those written.
const CLAIMS_IN_ID_TOKEN: u8 = 1 << 4;
/// `sub` is `claims.sub`, `sid` is `claims.sid`: not written.
const SUB_IN_CLAIMS: u8 = 1 << 5;
const SID_IN_CLAIMS: u8 = 1 << 6;
const ALL_FLAGS: u8 = (1 << 7) - 1;

/// The compact form of `session` (everything but its generation, which is stored beside it).
pub(super) fn write(session: &Session) -> Result<Vec<u8>, serde_json::Error> {
    let extra = claims_beyond_payload(&session.id_token, &session.claims);
    let is_claim =
        |name: &str, value: &str| session.claims.get(name).and_then(|v| v.as_str()) == Some(value);
    let mut flags = 0;
    for (set, flag) in [
        (session.sid.is_some(), SID),
        (session.refresh_token.is_some(), REFRESH),
        (session.access_expires_at.is_some(), EXPIRES_AT),
        (session.access_lifetime.is_some(), LIFETIME),
        (extra.is_some(), CLAIMS_IN_ID_TOKEN),
        (is_claim("sub", &session.sub), SUB_IN_CLAIMS),
        (
            session
                .sid
                .as_deref()
                .is_some_and(|sid| is_claim("sid", sid)),
            SID_IN_CLAIMS,
        ),
    ] {
        if set {
            flags |= flag;
        }
    }
    let mut w = Writer::new(VERSION);
    w.byte(flags);
    w.dotted(&session.id_token);
    match extra {
        Some(extra) if extra.is_empty() => w.bytes(b""),
        Some(extra) => w.bytes(&serde_json::to_vec(&extra)?),
        None => w.bytes(&serde_json::to_vec(&session.claims)?),
    }
    if flags & SUB_IN_CLAIMS == 0 {
        w.token(&session.sub);
    }
    if let (Some(sid), 0) = (&session.sid, flags & SID_IN_CLAIMS) {
        w.token(sid);
    }
    w.dotted(&session.access_token);
    if let Some(refresh_token) = &session.refresh_token {
        w.dotted(refresh_token);
    }
    session.access_expires_at.into_iter().for_each(|v| w.int(v));
    session.access_lifetime.into_iter().for_each(|v| w.int(v));
    w.int(session.created_at);
    w.token(&session.logout_token);
    write_route_tokens(&mut w, &session.route_tokens);
    Ok(w.finish())
}

fn write_route_tokens(w: &mut Writer, tokens: &BTreeMap<String, RouteToken>) {
    w.varint(tokens.len() as u64);
    for (key, token) in tokens {
        w.bytes(key.as_bytes());
        w.dotted(&token.access_token);
        let flags =
            u8::from(token.expires_at.is_some()) | (u8::from(token.lifetime.is_some()) << 1);
        w.byte(flags);
        token.expires_at.into_iter().for_each(|v| w.int(v));
        token.lifetime.into_iter().for_each(|v| w.int(v));
    }
}

/// The claims not in the ID token's payload, when every claim of the payload is in `claims` as
/// it is there (so the payload and these give `claims` back); `None` otherwise.
fn claims_beyond_payload(id_token: &str, claims: &Claims) -> Option<Claims> {
    let payload = payload_of(id_token)?;
    if payload.iter().any(|(k, v)| claims.get(k) != Some(v)) {
        return None;
    }
    Some(
        claims
            .iter()
            .filter(|(k, _)| !payload.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// The claims of a JWS payload (the second of three parts), when the codec keeps that part as
/// the bytes it encodes (where [`read`] parses it).
fn payload_of(id_token: &str) -> Option<Claims> {
    let mut parts = id_token.split('.');
    let payload = parts.nth(1)?;
    if parts.count() != 1 {
        return None;
    }
    serde_json::from_slice(&packed(payload)?).ok()
}

/// The session written as `plain` by [`write`] (its generation and registry entry are stored
/// beside it); `None` for anything else.
pub(super) fn read(plain: &[u8]) -> Option<Session> {
    let mut r = Reader::new(plain, VERSION)?;
    let flags = r.byte().filter(|f| f & !ALL_FLAGS == 0)?;
    let id_token = r.dotted_parts()?;
    let claims = claims_of(&id_token, r.bytes()?, flags)?;
    let sub = match flags & SUB_IN_CLAIMS {
        0 => r.token()?,
        _ => claims.get("sub")?.as_str()?.to_owned(),
    };
    let sid = match (flags & SID, flags & SID_IN_CLAIMS) {
        (0, _) => None,
        (_, 0) => Some(r.token()?),
        _ => Some(claims.get("sid")?.as_str()?.to_owned()),
    };
    let access_token = r.dotted()?;
    let refresh_token = if flags & REFRESH == 0 {
        None
    } else {
        Some(r.dotted()?)
    };
    let access_expires_at = if flags & EXPIRES_AT == 0 {
        None
    } else {
        Some(r.int()?)
    };
    let access_lifetime = if flags & LIFETIME == 0 {
        None
    } else {
        Some(r.int()?)
    };
    let created_at = r.int()?;
    let logout_token = r.token()?;
    let route_tokens = read_route_tokens(&mut r)?;
    r.end()?;
    Some(Session {
        sub,
        sid,
        claims,
        id_token: joined(&id_token)?,
        access_token,
        refresh_token,
        access_expires_at,
        access_lifetime,
        created_at,
        logout_token,
        route_tokens,
        generation: 0,
        rule_claims: ClaimsCell::default(),
        registry_entry: None,
    })
}

/// The claims: the ID token's payload (kept as bytes: parsed as it is) and the extra ones, or
/// all of them as written.
fn claims_of(id_token: &[Token<'_>], written: &[u8], flags: u8) -> Option<Claims> {
    let parse = |json: &[u8]| serde_json::from_slice::<Claims>(json).ok();
    if flags & CLAIMS_IN_ID_TOKEN == 0 {
        return parse(written);
    }
    let payload = match id_token {
        [_, payload, _] if payload.packed => payload.bytes,
        _ => return None,
    };
    let mut claims = parse(payload)?;
    if !written.is_empty() {
        claims.extend(parse(written)?);
    }
    Some(claims)
}

fn read_route_tokens(r: &mut Reader<'_>) -> Option<BTreeMap<String, RouteToken>> {
    let count = r.varint()?;
    let mut tokens = BTreeMap::new();
    for _ in 0..count {
        let key = std::str::from_utf8(r.bytes()?).ok()?.to_owned();
        let access_token = r.dotted()?;
        let flags = r.byte().filter(|f| f & !3 == 0)?;
        let expires_at = if flags & 1 == 0 { None } else { Some(r.int()?) };
        let lifetime = if flags & 2 == 0 { None } else { Some(r.int()?) };
        tokens.insert(
            key,
            RouteToken {
                access_token,
                expires_at,
                lifetime,
            },
        );
    }
    Some(tokens)
}
