//! A route's `allow` rule at work: evaluated on the signed-in caller's claims and the call's
//! canonical path (after step-up, before any token is looked at), counted in
//! `vestibule_rule_decisions_total`, a refusal logged with the route and the `sub`, and, with
//! `telemetry.decision_log`, every decision written to the decision log. Never a claim's value,
//! never the rule's inputs: the user's claims are personal data, and a rule may read any.

use std::time::Instant;

use prometheus::IntCounter;

use super::path::Canonical;
use crate::authz::{ClaimPath, CompileError, Rule, RuleInput};
use crate::config::{Config, RouteConfig};
use crate::session::Session;
use crate::telemetry::DECISION_LOG;
use crate::telemetry::metrics::METRICS;

/// A route whose rule does not compile (the config's validation refuses it first).
#[derive(Debug, thiserror::Error)]
#[error("route {route:?}: its allow rule does not compile")]
pub struct BadRule {
    pub route: String,
    #[source]
    pub source: CompileError,
}

/// What a rule said of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    /// No answer (a missing claim, a claim of another type, …): refused as `Deny` is, and told
    /// apart in metrics and logs so that a broken rule shows.
    Error(&'static str),
}

impl Outcome {
    pub fn allows(self) -> bool {
        self == Outcome::Allow
    }

    /// The `outcome` label and log field.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Error(_) => "error",
        }
    }
}

/// A route's compiled rule, with what deciding needs beside it.
pub struct RouteRule {
    rule: Rule,
    groups_claim: ClaimPath,
    /// `allow`, `deny`, `error`: resolved once (a label lookup per call is measurable).
    counters: [IntCounter; 3],
    decision_log: bool,
}

impl RouteRule {
    /// The rule of route `r`, if it has one (validated with the config: compiling again cannot
    /// fail, but is not trusted to).
    pub fn for_route(r: &RouteConfig, config: &Config) -> Result<Option<RouteRule>, CompileError> {
        let Some(source) = &r.allow else {
            return Ok(None);
        };
        let count = |o: &str| {
            METRICS
                .rule_decisions
                .with_label_values(&[r.prefix.as_str(), o])
        };
        Ok(Some(RouteRule {
            rule: Rule::compile(source)?,
            groups_claim: config.oidc.groups_claim.clone(),
            counters: ["allow", "deny", "error"].map(count),
            decision_log: config.telemetry.decision_log,
        }))
    }

    /// What the rule says of `session` calling `method` on `path` (the raw path: its canonical
    /// reading is what the rule sees); `route` names the route in logs.
    pub fn decide(&self, route: &str, session: &Session, method: &str, path: &str) -> Outcome {
        let started = Instant::now();
        let canonical = Canonical::new(path);
        let input = RuleInput {
            claims: session.rule_claims(&self.groups_claim),
            method,
            path: canonical.folded(),
        };
        let outcome = match self.rule.allows(&input) {
            Ok(true) => Outcome::Allow,
            Ok(false) => Outcome::Deny,
            Err(e) => Outcome::Error(e.kind()),
        };
        let latency_us = started.elapsed().as_micros() as u64;
        let i = match outcome {
            Outcome::Allow => 0,
            Outcome::Deny => 1,
            Outcome::Error(_) => 2,
        };
        self.counters[i].inc();
        let (sub, result) = (session.sub.as_str(), outcome.label());
        let reason = match outcome {
            Outcome::Error(kind) => kind,
            _ => "",
        };
        if !outcome.allows() {
            tracing::info!(
                route,
                sub,
                outcome = result,
                reason,
                "call refused by the route's rule"
            );
        }
        if self.decision_log {
            tracing::info!(
                target: DECISION_LOG,
                route,
                outcome = result,
                reason,
                sub,
                latency_us,
                "decision"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests;
