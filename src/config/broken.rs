//! A rule a key breaks: what each section's checks return. It lives apart from the file as a
//! whole (`file.rs`), which runs those checks, so that the sections need not import the file.

/// A broken rule: the key, and what was expected there. Sections return it; [`super::Config`]
/// adds the file name.
#[derive(Debug)]
pub struct Broken {
    pub key: &'static str,
    pub expected: String,
}

pub fn broken(key: &'static str, expected: impl Into<String>) -> Broken {
    Broken {
        key,
        expected: expected.into(),
    }
}
