//! The compact binary form of what the store keeps for a session (its record, its registry
//! entry): unsigned and signed varints, byte strings after their length, and tokens.
//!
//! Most of a session is tokens: JWT parts, opaque access and refresh tokens, ids, all base64url
//! text. A token is kept as the bytes its text encodes, a quarter shorter, whenever encoding
//! those bytes again gives exactly the same text (no padding, no stray bits in the last
//! character); any other text is kept as it is. A JWT is its dot-separated parts, each a token.
//!
//! Reading never trusts a length: every one is checked against what is left, so a truncated
//! or garbled input is `None`, never a panic or a large allocation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Writes the compact form.
pub(super) struct Writer(Vec<u8>);

impl Writer {
    pub(super) fn new(version: u8) -> Self {
        let mut out = Vec::with_capacity(1024);
        out.push(version);
        Writer(out)
    }

    pub(super) fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    pub(super) fn varint(&mut self, v: u64) {
        put_varint(&mut self.0, v);
    }

    /// Zigzag, so that small negative numbers stay short too.
    pub(super) fn int(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A token: its length shifted left once, the low bit set when what follows is the bytes
    /// its base64url text encodes; then those bytes, or the text.
    pub(super) fn token(&mut self, text: &str) {
        match packed(text) {
            Some(raw) => {
                self.varint(((raw.len() as u64) << 1) | 1);
                self.0.extend_from_slice(&raw);
            }
            None => {
                self.varint((text.len() as u64) << 1);
                self.0.extend_from_slice(text.as_bytes());
            }
        }
    }

    /// A JWT (or any dotted text): how many parts, then each part as a token.
    pub(super) fn dotted(&mut self, text: &str) {
        self.varint(text.split('.').count() as u64);
        for part in text.split('.') {
            self.token(part);
        }
    }

    pub(super) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// The bytes a base64url token encodes, when they encode back to exactly that text.
pub(super) fn packed(text: &str) -> Option<Vec<u8>> {
    // Short texts save nothing, and "" is not worth a special case.
    if text.len() < 4 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    (URL_SAFE_NO_PAD.encode(&raw) == text).then_some(raw)
}

/// One part of a token as stored: the text itself, or the bytes its base64url text encodes.
#[derive(Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) packed: bool,
}

impl Token<'_> {
    /// Appends the token's text to `out`.
    pub(super) fn push_to(self, out: &mut String) -> Option<()> {
        if self.packed {
            URL_SAFE_NO_PAD.encode_string(self.bytes, out);
        } else {
            out.push_str(std::str::from_utf8(self.bytes).ok()?);
        }
        Some(())
    }

    /// The token's length as text.
    fn text_len(self) -> usize {
        if self.packed {
            (self.bytes.len() * 4).div_ceil(3)
        } else {
            self.bytes.len()
        }
    }
}

/// Reads the compact form; every method is `None` once the input does not hold what is asked.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader of `input` if it begins with `version`.
    pub(super) fn new(input: &'a [u8], version: u8) -> Option<Self> {
        match input.split_first() {
            Some((v, rest)) if *v == version => Some(Reader { rest }),
            _ => None,
        }
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(*b)
    }

    pub(super) fn varint(&mut self) -> Option<u64> {
        let (v, rest) = take_varint(self.rest)?;
        self.rest = rest;
        Some(v)
    }

    pub(super) fn int(&mut self) -> Option<i64> {
        let z = self.varint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let len = usize::try_from(len).ok()?;
        let (taken, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(taken)
    }

    pub(super) fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.varint()?;
        self.take(len)
    }

    pub(super) fn token_part(&mut self) -> Option<Token<'a>> {
        let head = self.varint()?;
        let bytes = self.take(head >> 1)?;
        Some(Token {
            bytes,
            packed: head & 1 == 1,
        })
    }

    pub(super) fn token(&mut self) -> Option<String> {
        let part = self.token_part()?;
        let mut out = String::with_capacity(part.text_len());
        part.push_to(&mut out)?;
        Some(out)
    }

    /// The parts of a dotted text, as stored.
    pub(super) fn dotted_parts(&mut self) -> Option<Vec<Token<'a>>> {
        let count = usize::try_from(self.varint()?).ok()?;
        // Each part takes at least a byte: a count beyond what is left is a lie.
        if count == 0 || count > self.rest.len() {
            return None;
        }
        (0..count).map(|_| self.token_part()).collect()
    }

    pub(super) fn dotted(&mut self) -> Option<String> {
        joined(&self.dotted_parts()?)
    }

    /// `Some(())` when everything was read: trailing bytes mean the input is not what it seems.
    pub(super) fn end(self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

/// Appends `v` in LEB128: 7 bits a byte, low bits first.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The LEB128 number `input` begins with, and what follows it.
pub(super) fn take_varint(input: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, b) in input.iter().enumerate().take(10) {
        let bits = u64::from(b & 0x7f);
        // The tenth byte may only hold the top bit.
        if i == 9 && bits > 1 {
            return None;
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, &input[i + 1..]));
        }
    }
    None
}

/// The dotted text of `parts`.
pub(super) fn joined(parts: &[Token<'_>]) -> Option<String> {
    let len = parts.iter().map(|p| p.text_len() + 1).sum();
    let mut out = String::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        part.push_to(&mut out)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
