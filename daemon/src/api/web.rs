//! The phone web app: the static files of `web/`, embedded in the binary at
//! build time (release builds; debug builds read them from the source tree,
//! so a developer edits and reloads), served at the root of the HTTPS origin.
//!
//! Every page is served under a Content Security Policy that allows this
//! origin only: the app cannot load or send anything elsewhere, which is
//! what "local use" means for a web app (DESIGN.md §3). Assets are
//! revalidated by ETag (their SHA-256) and gzip-compressed on the way out.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../web/"]
#[exclude = "README.md"]
#[exclude = "*.py"]
#[exclude = "tools/*"]
struct Assets;

/// The policy of every web app response.
pub const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
    connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Serves a file of the web app, or the API's JSON 404 for unknown `/api/` paths.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("no such route").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "the web app is read-only",
        )
        .into_response();
    }
    let rel = match path.trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let Some(file) = Assets::get(rel) else {
        return ApiError::not_found("no such page").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let mime = file.metadata.mimetype();
    let mime = if rel.ends_with(".webmanifest") {
        "application/manifest+json"
    } else {
        mime
    };
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Revalidate every time (cheap: 304), so an update shows at once; the
    // service worker keeps the offline copy.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}
