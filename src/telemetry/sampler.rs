//! Which traces are recorded: `sample_ratio` of them, decided here, whoever calls.
//!
//! The SDK's `ParentBased(TraceIdRatioBased)` lets a caller's `traceparent` decide: a sampled
//! flag records the trace whatever the ratio, and the ratio itself is a threshold on the trace
//! id, which the caller picks. A browser could so have every one of its requests recorded and
//! exported. Here a remote parent's flag is ignored and the ratio is applied to a keyed hash of
//! the trace id, with a key made at start-up, so no caller can choose to be sampled. A trace
//! continued from a caller stays one trace (same id); only the decision is ours. Spans below
//! Vestibule's own (local parents) follow their parent, so a request is recorded whole or not
//! at all.

use std::hash::{BuildHasher, Hasher};

use opentelemetry::trace::{SpanKind, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    ParentBasedSampler, Sampler, SamplingDecision, SamplingResult, ShouldSample,
};

/// `ratio` of trace ids, by a hash keyed at start-up.
#[derive(Clone, Debug)]
struct KeyedRatio {
    ratio: f64,
    key: std::collections::hash_map::RandomState,
}

impl ShouldSample for KeyedRatio {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        SamplingResult {
            decision: if self.samples(trace_id) {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state: parent_context
                .map(|cx| cx.span().span_context().trace_state().clone())
                .unwrap_or_default(),
        }
    }
}

impl KeyedRatio {
    fn samples(&self, trace_id: TraceId) -> bool {
        if self.ratio >= 1.0 {
            return true;
        }
        if self.ratio <= 0.0 {
            return false;
        }
        let mut h = self.key.build_hasher();
        h.write(&trace_id.to_bytes());
        // The top 53 bits as a fraction in [0, 1).
        let x = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
        x < self.ratio
    }
}

/// Roots and continued traces: `ratio`, decided here; Vestibule's own child spans: their parent's.
pub fn sampler(ratio: f64) -> ParentBasedSampler {
    let ours = KeyedRatio {
        ratio,
        key: std::collections::hash_map::RandomState::new(),
    };
    Sampler::parent_based(ours.clone())
        .with_remote_parent_sampled(ours.clone())
        .with_remote_parent_not_sampled(ours)
}

#[cfg(test)]
mod tests;
