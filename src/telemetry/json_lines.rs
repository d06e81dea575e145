//! JSON log lines (`telemetry.format = "json"`): one object per line, `timestamp`, `level`,
//! `fields`, `target`, and `span` (the current span's fields and `name`).
//!
//! Why not `tracing-subscriber`'s own JSON format: it stores each span's fields as a JSON
//! object, then parses that text back for every line it writes, twice (`span` and `spans`), and
//! gathers each event's fields into a map of values before writing them. With a request line per
//! proxied call that was about 2.5 µs of CPU a request, more than the rest of the request log.
//! Here a span's fields are kept as the text of its members (`"k":v,…`), written once and copied
//! into each line as they are; an event's fields are written as they are visited. The values are
//! escaped by `serde_json`.

use std::fmt;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The line (the `event_format` of the JSON layer).
pub struct JsonLine;

/// A span's fields as the members of a JSON object, without its braces (the layer's
/// `fmt_fields`): a field recorded later is appended, never re-parsed.
pub struct JsonMembers;

impl<'w> FormatFields<'w> for JsonMembers {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut members = Members::new(writer, true);
        fields.record(&mut members);
        members.result
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut members = Members::new(current.as_writer(), first);
        fields.record(&mut members);
        members.result
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write!(
            w,
            "{{\"timestamp\":\"{}\",\"level\":\"{}\",\"fields\":{{",
            humantime::format_rfc3339_micros(SystemTime::now()),
            meta.level()
        )?;
        let mut fields = Members::new(w.by_ref(), true);
        event.record(&mut fields);
        fields.result?;
        w.write_str("},\"target\":")?;
        string(&mut w, meta.target())?;
        let current = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = current {
            w.write_str(",\"span\":")?;
            span_object::<S, N>(&mut w, &span)?;
            // The outer spans too, only when there are any (a request's line has one span).
            if span.parent().is_some() {
                w.write_str(",\"spans\":[")?;
                for (i, outer) in span.scope().from_root().enumerate() {
                    if i > 0 {
                        w.write_char(',')?;
                    }
                    span_object::<S, N>(&mut w, &outer)?;
                }
                w.write_char(']')?;
            }
        }
        w.write_str("}\n")
    }
}

/// `{<its fields>,"name":"<its name>"}`.
fn span_object<S, N>(
    w: &mut Writer<'_>,
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    w.write_char('{')?;
    if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
        && !fields.fields.is_empty()
    {
        w.write_str(&fields.fields)?;
        w.write_char(',')?;
    }
    w.write_str("\"name\":")?;
    string(w, span.name())?;
    w.write_char('}')
}

/// Writes each visited field as a JSON member (`"name":value`), comma-separated.
struct Members<'w> {
    out: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl<'w> Members<'w> {
    fn new(out: Writer<'w>, first: bool) -> Self {
        Members {
            out,
            first,
            result: Ok(()),
        }
    }

    fn member(&mut self, field: &Field, value: &impl serde::Serialize) {
        if self.result.is_err() {
            return;
        }
        let comma = if std::mem::take(&mut self.first) {
            ""
        } else {
            ","
        };
        self.result = self
            .out
            .write_str(comma)
            .and_then(|()| json(&mut self.out, field.name()))
            .and_then(|()| self.out.write_char(':'))
            .and_then(|()| json(&mut self.out, value));
    }
}

impl Visit for Members<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, &value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, &value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, &value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.member(field, &value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, &value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, &value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, &format!("{value:?}"));
    }
}

fn string(w: &mut Writer<'_>, s: &str) -> fmt::Result {
    json(w, s)
}

/// `value` as JSON, escaped by `serde_json`, into the line.
fn json<T: serde::Serialize + ?Sized>(w: &mut Writer<'_>, value: &T) -> fmt::Result {
    serde_json::to_writer(Utf8(w), value).map_err(|_| fmt::Error)
}

/// `serde_json` writes to an `io::Write`; the line is a `fmt::Write`. It only ever writes whole
/// UTF-8 pieces (slices of the input cut at escapes, and ASCII), so each is valid on its own.
struct Utf8<'a, 'w>(&'a mut Writer<'w>);

impl std::io::Write for Utf8<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = std::str::from_utf8(buf).map_err(std::io::Error::other)?;
        self.0.write_str(s).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
