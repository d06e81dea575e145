//! `[telemetry]`: how logs are written, and (`[telemetry.otlp]`) where traces go.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::broken::{Broken, broken};

/// How log lines are written on stderr (which lines: `RUST_LOG`).
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    #[serde(default)]
    pub format: LogFormat,
    /// One JSON line per decision of a route's `allow` rule (target `vestibule::decision`: the
    /// route, the outcome, the user's `sub` and the time taken), whatever `format` is. Never a
    /// token or a claim's value.
    #[serde(default)]
    pub decision_log: bool,
    /// OpenTelemetry traces over OTLP/HTTP; off when absent.
    pub otlp: Option<OtlpConfig>,
}

/// `[telemetry.otlp]`: spans exported to an OpenTelemetry collector (OTLP/HTTP, protobuf).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's OTLP/HTTP base URL (`http://otel-collector:4318`); spans are sent to
    /// `{endpoint}/v1/traces`.
    pub endpoint: Url,
    /// `service.name` of every span.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Share of new traces recorded (0.0–1.0). A request that continues a trace follows its
    /// parent's decision.
    #[serde(default = "default_sample_ratio")]
    pub sample_ratio: f64,
    /// How often finished spans are sent.
    #[serde(default = "default_export_interval", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub export_interval: Duration,
    /// Headers on each export (a vendor's API key: better from the environment,
    /// `VESTIBULE_TELEMETRY__OTLP__HEADERS`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_service_name() -> String {
    "vestibule".into()
}
fn default_sample_ratio() -> f64 {
    1.0
}
fn default_export_interval() -> Duration {
    Duration::from_secs(5)
}

impl TelemetryConfig {
    pub(super) fn validate(&self) -> Result<(), Broken> {
        let Some(otlp) = &self.otlp else {
            return Ok(());
        };
        if !matches!(otlp.endpoint.scheme(), "http" | "https") || otlp.endpoint.query().is_some() {
            return Err(broken(
                "telemetry.otlp.endpoint",
                "expected the collector's http(s) URL, such as \"http://otel-collector:4318\"",
            ));
        }
        if otlp.service_name.is_empty() {
            return Err(broken("telemetry.otlp.service_name", "expected a name"));
        }
        if !(0.0..=1.0).contains(&otlp.sample_ratio) {
            return Err(broken(
                "telemetry.otlp.sample_ratio",
                "expected a number from 0.0 to 1.0",
            ));
        }
        if otlp.export_interval.is_zero() {
            return Err(broken(
                "telemetry.otlp.export_interval",
                "expected a positive duration such as \"5s\"",
            ));
        }
        Ok(())
    }
}
