//! One call as a route's policy judges it. The proxy judges the request it is serving; the
//! forward-auth endpoint (`auth::check`) judges the request a gateway is about to forward, whose
//! method and path it has only from the gateway's word. Both go through the same admission
//! (`token::admit`), so a route decides alike whoever asks.

use actix_web::HttpRequest;

/// The call being judged.
pub struct Call<'a> {
    /// Its method, as the browser sent it.
    pub method: &'a str,
    /// Its path, raw (its canonical reading is what a rule sees).
    pub path: &'a str,
    /// Where a step-up's new sign-in brings the user back (a path and query as the browser
    /// sent it: anything but a same-origin path becomes `/`); `None`: the page that made the
    /// call (its `Referer`, see `step_up`).
    pub return_to: Option<&'a str>,
    /// Load the caller's session even where the route's token and rule need none: a gateway is
    /// told who calls whenever someone is signed in.
    pub identity: bool,
}

impl<'a> Call<'a> {
    /// The request being served, as it is.
    pub fn of(req: &'a HttpRequest) -> Call<'a> {
        Call {
            method: req.method().as_str(),
            path: req.uri().path(),
            return_to: None,
            identity: false,
        }
    }
}
