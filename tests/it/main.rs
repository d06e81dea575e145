//! Vestibule's integration tests: one binary (one link of actix, reqwest, openidconnect and
//! rsa), against real parts on loopback: a redis-server, a test IdP, upstream servers, and the
//! `vestibule` binary itself where signals, exit codes or logs are the point.
//!
//! `common` is the harness; each other module is one area of behaviour, and `hostile` holds the
//! hostile-input tables of SECURITY.md.

// A test fails by panicking: `expect` names what was expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod apps;
mod auth_flow;
mod cli;
mod docs;
mod forward_auth;
mod frontchannel;
mod health;
mod hostile;
mod identity;
mod idps;
mod layout;
mod lifecycle;
mod limits;
mod ops;
mod proxy;
mod reference;
mod rotation;
mod route_tokens;
mod rules;
mod scale_out;
mod sessions;
mod spa;
mod step_up;
mod store;
mod traces;
mod upgrade;
