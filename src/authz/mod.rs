//! Authorization rules: a route's `allow` expression, in CEL, over the signed-in user's claims
//! and the request. Pure: no I/O, no config, no metrics (the proxy counts and logs decisions).
//!
//! - `rule`: [`Rule`], compiled once (parsed, its names checked), evaluated per call;
//! - `names`: the check that an expression names only the known variables and functions (the
//!   CEL crate has no type checker);
//! - `claims`: [`RuleClaims`], a session's claims as CEL values, built once per loaded session
//!   ([`ClaimsCell`]), and [`ClaimPath`], where the groups are in the claims;
//! - `input`: [`RuleInput`], what one evaluation sees;
//! - [`CompileError`], [`RuleError`] (`error`).

mod claims;
mod error;
mod input;
mod names;
mod rule;

pub use claims::{ClaimPath, ClaimsCell, RuleClaims};
pub use error::{CompileError, RuleError};
pub use input::RuleInput;
pub use rule::Rule;

#[cfg(test)]
mod tests;
