//! Cross-origin access (CORS, the Fetch standard's CORS protocol) for browser apps served from
//! another origin.
//!
//! The operator lists the allowed origins in `CORS_ALLOW_ORIGINS` (comma-separated exact
//! origins such as `https://app.example.com`, or `*`); unset or empty allows none. Only the
//! public routes take part: `/predict`, `/explain`, `/features`, `/health` and `/openapi.json`.
//! `/logs` never does (its token must not be usable from a web page), so `OPTIONS /logs` stays a
//! 405 and its responses carry no CORS headers.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Response, Settings};

/// Request headers a page may send (`Content-Type: application/json` needs a preflight).
const ALLOWED_HEADERS: &str = "Content-Type, X-Client-Source";
/// Response headers a page may read besides the CORS-safelisted ones.
const EXPOSED_HEADERS: &str = "X-Request-Id";
/// How long (seconds) a browser may cache a preflight answer.
const MAX_AGE_SECONDS: &str = "600";

/// Which origins may call the API from a browser (`CORS_ALLOW_ORIGINS`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access (the default).
    #[default]
    None,
    /// `*`: any origin (the API uses no cookies, so no credentials are involved).
    Any,
    /// Exact origins (`scheme://host[:port]`, compared as sent by the browser, without a
    /// trailing slash).
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `CORS_ALLOW_ORIGINS`: `*`, or origins separated by commas and/or whitespace; a
    /// trailing `/` is dropped. Empty means none.
    pub fn parse(value: &str) -> CorsOrigins {
        let list: Vec<String> = value
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|o| o.trim().trim_end_matches('/'))
            .filter(|o| !o.is_empty())
            .map(ToOwned::to_owned)
            .collect();
        if list.iter().any(|o| o == "*") {
            CorsOrigins::Any
        } else if list.is_empty() {
            CorsOrigins::None
        } else {
            CorsOrigins::List(list)
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    fn allow(&self, origin: Option<&str>) -> Option<String> {
        let origin = origin?;
        match self {
            CorsOrigins::None => None,
            CorsOrigins::Any => Some("*".into()),
            CorsOrigins::List(list) => list.iter().any(|o| o == origin).then(|| origin.to_owned()),
        }
    }
}

/// The method of a route that takes part in CORS.
fn cors_method(path: &str) -> Option<&'static str> {
    super::find_route(path).filter(|r| r.cors).map(|r| r.method)
}

/// The answer to `OPTIONS` on a CORS route: 204 with `Allow`, and, for an allowed origin, the
/// preflight headers. `None` for other routes (they answer `OPTIONS` with 405).
pub(super) fn preflight(settings: &Settings, path: &str, origin: Option<&str>) -> Option<Response> {
    let method = cors_method(path)?;
    let mut headers = alloc::vec![("Allow", alloc::format!("{method}, OPTIONS")), ("Vary", "Origin".into())];
    if let Some(allowed) = settings.cors.allow(origin) {
        headers.push(("Access-Control-Allow-Origin", allowed));
        headers.push(("Access-Control-Allow-Methods", alloc::format!("{method}, OPTIONS")));
        headers.push(("Access-Control-Allow-Headers", ALLOWED_HEADERS.into()));
        headers.push(("Access-Control-Max-Age", MAX_AGE_SECONDS.into()));
    }
    Some(Response { status: 204, content_type: "text/plain", body: String::new(), headers })
}

/// Adds the CORS headers of an actual (non-preflight) response on a CORS route.
pub(super) fn decorate(settings: &Settings, path: &str, origin: Option<&str>, response: &mut Response) {
    if cors_method(path).is_none() || settings.cors == CorsOrigins::None {
        return;
    }
    response.headers.push(("Vary", "Origin".into()));
    if let Some(allowed) = settings.cors.allow(origin) {
        response.headers.push(("Access-Control-Allow-Origin", allowed));
        response.headers.push(("Access-Control-Expose-Headers", EXPOSED_HEADERS.into()));
    }
}
