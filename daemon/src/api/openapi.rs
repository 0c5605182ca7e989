//! The OpenAPI document, generated from the handlers' annotations
//! (utoipa): served at `GET /api/openapi.json` and written to
//! `docs/openapi.json` by `foyerd openapi`.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::error::ErrorBody;
use super::extract::Authed;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Foyer box API",
        description = "The HTTP API of a Foyer personal data box. Errors are `{\"error\":{\"code\",\"message\"}}` with a stable snake_case code.",
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "box", description = "Liveness and box facts"),
        (name = "owner", description = "Claiming the box, sessions, passphrase"),
        (name = "tokens", description = "API tokens for scripts and devices"),
        (name = "docs", description = "Typed JSON documents, queries and the change feed"),
        (name = "files", description = "Encrypted files, folders and the trash"),
        (name = "system", description = "The running box: status, database integrity, factory reset"),
    )
)]
struct BaseApi;

/// The document the router starts from (metadata, shared schemas).
pub fn base() -> utoipa::openapi::OpenApi {
    BaseApi::openapi()
}

/// Adds what the router cannot collect itself: the wildcard file routes and
/// the security schemes.
pub fn finish(mut spec: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    spec.merge(super::files::FilesApi::openapi());
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "foyer_session",
            "Session cookie from POST /api/session; state-changing requests also send X-CSRF-Token",
        ))),
    );
    spec
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "box",
    responses((status = 200, description = "This document", body = Object)),
    security(("session" = []), ("bearer" = [])))]
pub async fn openapi_json(
    _caller: Authed,
    Extension(spec): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json((*spec).clone())
}
