//! The HTTP API: routes, one file per resource family, each a thin layer over
//! `auth` and `vault`.
//!
//! - [`health`]: liveness and box facts (no auth).
//! - [`owner`]: setup with the claim code, sessions, passphrase and recovery.
//! - [`tokens`]: API tokens. [`doctypes`]: document types and their schemas.
//! - [`docs`]: documents, `_find`, `_bulk_docs`. [`changes`]: the change feed.
//! - [`files`]: files, folders and the trash.
//! - [`boxinfo`]: the box's names and fingerprint; [`devices`]: devices,
//!   sessions and pairing by QR code.
//! - [`system`]: the running system (status, database integrity check,
//!   factory reset request).
//! - [`openapi`]: the generated OpenAPI document. [`plain`]: the plain-HTTP listener.
//! - [`web`]: the embedded phone web app, at the root of the origin.
//!
//! Cross-cutting: [`error`] (the one error shape), [`extract`] (JSON bodies,
//! client address, the authenticated caller).

pub mod boxinfo;
pub mod changes;
pub mod devices;
pub mod docs;
pub mod doctypes;
pub mod error;
pub mod extract;
pub mod files;
pub mod health;
pub mod openapi;
pub mod owner;
pub mod plain;
pub mod system;
pub mod tokens;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::vault::Vault;
use error::ApiError;

/// Facts about the box that routes show.
#[derive(Debug, Clone)]
pub struct BoxInfo {
    pub id: String,
    pub hostname: String,
    pub version: &'static str,
    pub ca_fingerprint: String,
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub https_port: u16,
    pub http_port: u16,
    /// The mDNS state, when the box announces itself.
    pub lan: Option<tokio::sync::watch::Receiver<crate::net::mdns::LanState>>,
}

impl BoxInfo {
    /// The host name the box answers to on the LAN now, without `.local`:
    /// its own `foyer-XXXX`, or `foyer-XXXX-N` after mDNS found another
    /// device answering for that name. URLs given to phones use this one.
    pub fn lan_hostname(&self) -> String {
        self.lan
            .as_ref()
            .map(|rx| rx.borrow().hostname.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| self.hostname.clone())
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub vault: Arc<Vault>,
    pub auth: Arc<Auth>,
    pub info: Arc<BoxInfo>,
    /// Resolves when the box is stopping (long polls end early).
    pub shutdown: crate::system::shutdown::Shutdown,
    /// The running system: uptime, last stop, watchdog, data directory.
    pub system: Arc<crate::system::status::System>,
}

/// Default limit for JSON bodies.
pub const JSON_LIMIT: usize = 1024 * 1024;
/// Limit for `_bulk_docs` bodies.
pub const BULK_LIMIT: usize = 64 * 1024 * 1024;

/// The HTTPS application: every API route, with the OpenAPI document built
/// from the same handler list.
pub fn router(state: AppState) -> Router {
    let (routes, spec) = build();
    routes
        .layer(axum::Extension(Arc::new(spec)))
        .with_state(state)
}

/// The OpenAPI document of the API (what `GET /api/openapi.json` serves).
pub fn spec() -> utoipa::openapi::OpenApi {
    build().1
}

/// The routes (not yet bound to a state) and their OpenAPI document.
fn build() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api_router, spec) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health::health))
        .routes(routes!(owner::setup))
        .routes(routes!(owner::login, owner::session_info, owner::logout))
        .routes(routes!(owner::change_passphrase))
        .routes(routes!(owner::strength))
        .routes(routes!(boxinfo::get, boxinfo::put))
        .routes(routes!(devices::list))
        .routes(routes!(devices::revoke))
        .routes(routes!(devices::start))
        .routes(routes!(devices::redeem))
        .routes(routes!(owner::recover))
        .routes(routes!(system::status))
        .routes(routes!(system::integrity_check))
        .routes(routes!(system::factory_reset))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(doctypes::list))
        .routes(routes!(doctypes::get, doctypes::put))
        .routes(routes!(docs::create))
        .routes(routes!(docs::get, docs::put, docs::delete))
        .routes(routes!(docs::find))
        .routes({
            let (schemas, paths, method) = routes!(docs::bulk_docs);
            (
                schemas,
                paths,
                method.layer(DefaultBodyLimit::max(BULK_LIMIT)),
            )
        })
        .routes(routes!(changes::changes))
        .routes(routes!(files::list_trash, files::empty_trash))
        .routes(routes!(files::restore))
        .routes(routes!(files::purge))
        .routes(routes!(openapi::openapi_json))
        .split_for_parts();
    let spec = openapi::finish(spec);

    let routes = api_router
        // Files: a wildcard path, so registered by hand; documented in `files::FilesApi`.
        .merge(files::routes())
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        // Everything that is not an API route is the web app (or a JSON 404 under /api/).
        .fallback_service(
            Router::new()
                .fallback(web::serve)
                .layer(tower_http::compression::CompressionLayer::new()),
        )
        .layer(axum::middleware::map_response(errors_as_json))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(TraceLayer::new_for_http());
    (routes, spec)
}

/// Safety net: an error produced outside our handlers (405, a path or body
/// rejection by axum) is rewritten into the API's JSON error shape.
async fn errors_as_json(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::RANGE_NOT_SATISFIABLE => "range_not_satisfiable",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    };
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        t => t.to_owned(),
    };
    let mut new = axum::response::IntoResponse::into_response(ApiError::new(status, code, message));
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new
}
