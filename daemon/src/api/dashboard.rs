//! The operator's dashboard: a page and its script and style, built into the binary and
//! served by the API itself at `/` and `/ui/{file}`.
//!
//! The assets are the sources in `daemon/assets/dashboard/`, as written: plain HTML,
//! CSS and JavaScript with no build step and nothing fetched from elsewhere, so what the
//! binary serves is exactly what the repository holds (reproducible offline by
//! construction). The page holds no data: it asks the API with the token the user typed,
//! kept in `sessionStorage` and sent as `Authorization`, never in a URL. A strict
//! Content-Security-Policy allows nothing but these files and the API of the same
//! origin: no inline script or style, no other host, no framing.

use super::error::ApiError;
use warp::http::{header, HeaderValue};
use warp::reply::Response;

/// One file of the dashboard.
pub struct Asset {
    /// Its name under `/ui/` (the page itself is `index.html`, served at `/`).
    pub name: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
}

/// Every file of the dashboard.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/dashboard/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/dashboard/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/dashboard/app.css"),
    },
];

/// The page's Content-Security-Policy: this origin's files and API, nothing inline.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The file `name`, with the headers that keep it to itself.
pub fn serve(name: &str) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found(format!("the dashboard has no file {name}")))?;
    let mut response = Response::new(asset.body.into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The binary is the version: a new daemon must not be shown with an old script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
