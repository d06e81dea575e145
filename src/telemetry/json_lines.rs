//! JSON log lines (`telemetry.format = "json"`): one object per line, `timestamp`, `level`,
//! `fields`, `target`, and `span` (the current span's fields and `name`).
//!
//! Why not `tracing-subscriber`'s own JSON format: it stores each span's fields as a JSON
//! object, then parses that text back for every line it writes, twice (`span` and `spans`), and
//! gathers each event's fields into a map of values before writing them. With a request line per
//! proxied call that was about 2.5 µs of CPU a request, more than the rest of the request log.
//! Here a span's fields are kept as the text of its members (`"k":v,…`), written once and copied
//! into each line as they are; an event's fields are written as they are visited, strings
//! escaped on the way (not copied, then escaped, then checked to be UTF-8 again).

use std::fmt::{self, Write as _};
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

    /// `,"name":` then the value, written by `value`.
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        if !std::mem::take(&mut self.first) {
            self.result = self.out.write_char(',');
        }
        self.result = self
            .result
            .and_then(|()| string(&mut self.out, field.name()))
            .and_then(|()| self.out.write_char(':'))
            .and_then(|()| value(&mut self.out));
    }
}

impl Visit for Members<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |w| string(w, value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        // Rust prints the shortest text that reads back as the same number: valid JSON, except
        // for the non-finite values, which JSON has no number for.
        self.member(field, |w| match value.is_finite() {
            true => write!(w, "{value}"),
            false => w.write_str("null"),
        });
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |w| write!(w, "{value}"));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |w| quoted(w, format_args!("{value}")));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |w| quoted(w, format_args!("{value:?}")));
    }
}

fn string(w: &mut Writer<'_>, s: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaped(w).write_str(s)?;
    w.write_char('"')
}

/// A formatted value as a JSON string, escaped as it is written (no copy of it first).
fn quoted(w: &mut Writer<'_>, value: fmt::Arguments<'_>) -> fmt::Result {
    w.write_char('"')?;
    fmt::Write::write_fmt(&mut Escaped(w), value)?;
    w.write_char('"')
}

/// Escapes what is written through it as the inside of a JSON string (RFC 8259 §7): `"`, `\`
/// and the control characters; everything else is copied as it is, in runs between escapes.
struct Escaped<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut run = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..0x20 | 0x7f => "",
                _ => continue,
            };
            // Escapes are ASCII, so `run..i` always ends on a character boundary.
            self.0.write_str(&s[run..i])?;
            match escape {
                "" => write!(self.0, "\\u{b:04x}")?,
                e => self.0.write_str(e)?,
            }
            run = i + 1;
        }
        self.0.write_str(&s[run..])
    }
}

#[cfg(test)]
mod tests;
