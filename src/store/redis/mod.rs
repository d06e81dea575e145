//! The Redis store: every replica sees the same sessions, and they survive proxy restarts.
//!
//! - `connection`: what the store talks to and how a connection is kept: made lazily (the
//!   proxy starts, and stays up, while Redis is down), every command bounded by a timeout (a dead
//!   Redis gives a fast 503), and a connection that died while idle replaced and the command
//!   tried once more, so that no request fails for it;
//! - `commands`: the [`Store`](super::Store) commands;
//! - `invalidation`: the news that a session ended, to every replica's cache (pub/sub).

mod commands;
mod connection;
mod invalidation;

pub use commands::RedisStore;
