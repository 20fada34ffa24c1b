//! Front-end assets, vendored and embedded in the binary, served under fingerprinted URLs
//! (`/static/<hash>/<name>`) with ETags and a year of caching.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    bytes: &'static [u8],
    mime: &'static str,
    hash: String,
}

macro_rules! assets {
    ($($name:literal => $path:literal, $mime:literal;)*) => {
        fn build() -> HashMap<&'static str, Asset> {
            let mut m = HashMap::new();
            $(
                let bytes: &'static [u8] = include_bytes!($path);
                m.insert($name, Asset { bytes, mime: $mime, hash: hex::encode(&Sha256::digest(bytes)[..6]) });
            )*
            m
        }
    };
}

assets! {
    "bootstrap.min.css" => "../static/vendor/bootstrap-5.3.9.min.css", "text/css; charset=utf-8";
    "bootstrap.bundle.min.js" => "../static/vendor/bootstrap-5.3.9.bundle.min.js", "text/javascript; charset=utf-8";
    "htmx.min.js" => "../static/vendor/htmx-2.0.11.min.js", "text/javascript; charset=utf-8";
    "echarts.min.js" => "../static/vendor/echarts-6.1.0.min.js", "text/javascript; charset=utf-8";
    "app.css" => "../static/app.css", "text/css; charset=utf-8";
    "app.js" => "../static/app.js", "text/javascript; charset=utf-8";
}

fn all() -> &'static HashMap<&'static str, Asset> {
    static ALL: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ALL.get_or_init(build)
}

/// The fingerprinted URL of an asset, for templates.
pub fn url(name: &str) -> String {
    match all().get(name) {
        Some(a) => format!("/static/{}/{name}", a.hash),
        None => format!("/static/missing/{name}"),
    }
}

pub async fn serve(Path((hash, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(a) = all().get(name.as_str()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", a.hash);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    // An old fingerprint still gets the current file, but must not be cached for long.
    let cache = if hash == a.hash { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut res = a.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}
