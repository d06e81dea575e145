//! `[spa]`: the single-page app, as a directory of built files or a dev server to proxy.

use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use super::broken::{Broken, broken};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaConfig {
    /// Directory of the built SPA, with `index.html` at its top: files are served with ETags,
    /// and navigations to paths without a file get `index.html` (client-side routing).
    #[schemars(extend("x-kind" = "path"))]
    pub dir: Option<PathBuf>,
    /// Instead of `dir`: a dev server (Vite, webpack) to proxy every non-API path to, for hot
    /// reload while developing.
    pub upstream: Option<Url>,
}

impl SpaConfig {
    pub(super) fn validate(&self) -> Result<(), Broken> {
        if let Some(u) = &self.upstream
            && !matches!(u.scheme(), "http" | "https")
        {
            return Err(broken("spa.upstream", "expected an http(s) URL"));
        }
        match (&self.dir, &self.upstream) {
            (Some(_), Some(_)) => Err(broken(
                "spa",
                "expected either `dir` or `upstream`, not both",
            )),
            (Some(dir), None) if !dir.join("index.html").is_file() => Err(broken(
                "spa.dir",
                format!(
                    "expected a directory containing index.html, got {}",
                    dir.display()
                ),
            )),
            _ => Ok(()),
        }
    }
}
