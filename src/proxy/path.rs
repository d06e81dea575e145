//! One canonical form of a request path, and the spellings an API path may not have.
//!
//! Vestibule chooses a route (and so its token, step-up rule and methods) from the path, and an
//! upstream acts on the same path; they must not read it differently. Upstreams disagree: nginx
//! merges `//`, Werkzeug and nginx decode `%2F`, Tomcat and Jetty drop `;params`, IIS trims
//! trailing dots and spaces and reads `\` as `/`, ASP.NET and Spring may match case-insensitively.
//! So, as Envoy's `normalize_path`, `merge_slashes` and `path_with_escaped_slashes_action` do for
//! its routes, a path is read two ways here:
//!
//! - **folded**: the most lenient reading any of those servers could make (percent-decoded, `\`
//!   and encoded slashes as `/`, `;…` dropped, trailing dots and spaces trimmed, case-folded).
//!   Routes are chosen on this form, so a spelling that could reach a stricter route's endpoints
//!   is always judged by that route. A path with dot segments is an API path if it is one with
//!   them kept or resolved.
//! - **flaws**: whatever makes the readings differ. An API path with a flaw is refused (400)
//!   before anything is forwarded; one without is forwarded byte for byte as the browser sent it.

/// Why an API path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path has an empty segment (`//`)")]
    EmptySegment,
    #[error("the path has an encoded `/` or `\\` (`%2F`, `%5C`)")]
    EncodedSlash,
    #[error("the path has a backslash")]
    Backslash,
    #[error("the path has a `;` parameter")]
    Parameter,
    #[error("the path has a control byte")]
    Control,
    #[error("the path has a `.` or `..` segment")]
    DotSegment,
    #[error("a path segment ends in a dot or a space")]
    TrailingDotOrSpace,
    #[error("the path has a malformed or double percent-encoding, or bytes that are not UTF-8")]
    BadEncoding,
    #[error("the path has an encoded `?` or `#`")]
    EncodedDelimiter,
}

/// A request path as routes see it.
#[derive(Debug)]
pub struct Canonical {
    /// The lenient reading, `/`-separated, starting with `/`.
    folded: String,
    /// The first flaw other than an encoded slash (which a route may allow).
    flaw: Option<PathError>,
    /// The first raw segment (1-based) that holds `%2F` or `%5C`.
    encoded_slash_at: Option<usize>,
    /// It has `.` or `..` segments (kept in `folded`, see [`Canonical::resolved`]).
    dots: bool,
}

impl Canonical {
    pub fn new(raw: &str) -> Canonical {
        let mut c = Canonical {
            folded: String::with_capacity(raw.len()),
            flaw: None,
            encoded_slash_at: None,
            dots: false,
        };
        let body = raw.strip_prefix('/').unwrap_or(raw);
        let last = body.split('/').count();
        for (i, seg) in body.split('/').enumerate() {
            let index = i + 1;
            // A trailing slash is an ordinary spelling; `//` anywhere is not.
            if seg.is_empty() {
                if index != last {
                    c.flag(PathError::EmptySegment);
                }
                continue;
            }
            let decoded = c.decode(seg, index);
            for part in decoded.split(|&b| b == b'/') {
                c.fold_segment(part);
            }
        }
        if c.folded.is_empty() || body.ends_with('/') {
            c.folded.push('/');
        }
        c
    }

    /// The lenient, case-folded reading: what routes are matched against. Dot segments are
    /// kept as they are (see [`Canonical::resolved`]).
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// With dot segments, the folded reading with them resolved, as a normalising server reads
    /// it. (Such a path is refused either way; both readings decide whether it is an API path.)
    pub fn resolved(&self) -> Option<String> {
        if !self.dots {
            return None;
        }
        let mut kept: Vec<&str> = Vec::new();
        for seg in self.folded.split('/').skip(1) {
            match seg {
                "." => {}
                ".." => {
                    kept.pop();
                }
                s => kept.push(s),
            }
        }
        Some(format!("/{}", kept.join("/")))
    }

    /// The path's verdict for a route: `allow_encoded_slash` lets `%2F`/`%5C` through.
    pub fn check(&self, allow_encoded_slash: bool) -> Result<(), PathError> {
        if let Some(f) = self.flaw {
            return Err(f);
        }
        if self.encoded_slash_at.is_some() && !allow_encoded_slash {
            return Err(PathError::EncodedSlash);
        }
        Ok(())
    }

    /// Whether one of the first `segments` raw segments holds an encoded slash (so the raw path
    /// cannot be cut after them where the folded one is).
    pub fn encoded_slash_within(&self, segments: usize) -> bool {
        self.encoded_slash_at.is_some_and(|at| at <= segments)
    }

    fn flag(&mut self, e: PathError) {
        self.flaw.get_or_insert(e);
    }

    /// Percent-decodes one raw segment, noting its flaws; `\` and encoded slashes become `/`.
    fn decode(&mut self, seg: &str, index: usize) -> Vec<u8> {
        let s = seg.as_bytes();
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            if b == b'%' {
                match (s.get(i + 1).and_then(hex), s.get(i + 2).and_then(hex)) {
                    (Some(h), Some(l)) => {
                        let d = h << 4 | l;
                        if d == b'/' || d == b'\\' {
                            self.encoded_slash_at.get_or_insert(index);
                            out.push(b'/');
                        } else {
                            out.push(d);
                        }
                        i += 3;
                        continue;
                    }
                    _ => self.flag(PathError::BadEncoding),
                }
            } else if b == b'\\' {
                self.flag(PathError::Backslash);
                out.push(b'/');
                i += 1;
                continue;
            }
            out.push(b);
            i += 1;
        }
        // A server that decodes twice would read `%2561` as `a`: any double encoding is one
        // path read two ways.
        if out
            .windows(3)
            .any(|w| w[0] == b'%' && hex(&w[1]).is_some() && hex(&w[2]).is_some())
        {
            self.flag(PathError::BadEncoding);
        }
        // Overlong or broken UTF-8 (`%C0%AE` for `.`): lenient decoders read it as ASCII.
        if std::str::from_utf8(&out).is_err() {
            self.flag(PathError::BadEncoding);
        }
        // Decoded before the query is split off, these would end the path early.
        if out.iter().any(|b| matches!(b, b'?' | b'#')) {
            self.flag(PathError::EncodedDelimiter);
        }
        out
    }

    /// Appends one decoded segment to the folded form, noting its flaws.
    fn fold_segment(&mut self, part: &[u8]) {
        if part.iter().any(|b| b.is_ascii_control()) {
            self.flag(PathError::Control);
        }
        // Tomcat and Jetty drop a segment's `;parameters`.
        let part = match part.iter().position(|&b| b == b';') {
            Some(p) => {
                self.flag(PathError::Parameter);
                &part[..p]
            }
            None => part,
        };
        if part == b"." || part == b".." {
            self.flag(PathError::DotSegment);
            self.dots = true;
            self.folded.push('/');
            self.folded.push_str(if part == b"." { "." } else { ".." });
            return;
        }
        // IIS trims trailing dots and spaces from a segment.
        let trimmed = trim_end(part);
        if trimmed.len() != part.len() {
            self.flag(PathError::TrailingDotOrSpace);
        }
        if trimmed.is_empty() {
            return;
        }
        self.folded.push('/');
        let text = String::from_utf8_lossy(trimmed);
        if text.is_ascii() {
            self.folded.push_str(&text.to_ascii_lowercase());
        } else {
            for c in text.chars() {
                fold_char(c, &mut self.folded);
            }
        }
    }
}

/// Upper then lower case, so that `ı` and `ſ` reach `i` and `s` as servers comparing upper-cased
/// strings see them; and a letter whose lower case is an ASCII letter plus combining marks
/// (`İ` → `i̇`) is that ASCII letter, as Java's per-character `toLowerCase` reads it.
fn fold_char(c: char, out: &mut String) {
    let mut folded = c.to_uppercase().flat_map(char::to_lowercase);
    let Some(first) = folded.next() else {
        return;
    };
    let rest: Vec<char> = folded.collect();
    out.push(first);
    if !(first.is_ascii_alphabetic() && rest.iter().all(|r| ('\u{300}'..='\u{36f}').contains(r))) {
        out.extend(rest);
    }
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'.' | b' '] = s {
        s = rest;
    }
    s
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// [`under`] for a plain path, comparing its ASCII case-insensitively (so without folding it).
pub fn plain_under(raw: &str, prefix: &str) -> bool {
    prefix == "/"
        || raw.get(..prefix.len()).is_some_and(|head| {
            head.eq_ignore_ascii_case(prefix)
                && matches!(raw.as_bytes().get(prefix.len()), None | Some(b'/'))
        })
}

/// The folded form of a configured route prefix (validated: plain segments).
pub fn fold_prefix(prefix: &str) -> String {
    Canonical::new(prefix).folded
}

/// Whether `folded` is `prefix` or below it (whole segments).
pub fn under(folded: &str, prefix: &str) -> bool {
    prefix == "/"
        || folded
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests;
