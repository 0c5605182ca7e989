//! The running system, for its owner: `GET /api/system/status`,
//! `POST /api/system/integrity-check` and `POST /api/system/factory-reset`.
//! The logic is in `system::{status, integrity, factory_reset}`; the
//! passphrase check in `auth`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed, ClientIp};
use crate::auth::scopes::Need;
use crate::system::factory_reset;
use crate::system::integrity::IntegrityReport;
use crate::system::status::SystemStatus;

#[utoipa::path(get, path = "/api/system/status", tag = "system",
    responses(
        (status = 200, body = SystemStatus),
        (status = 401, body = ErrorBody, description = "unauthenticated"),
        (status = 403, body = ErrorBody, description = "forbidden"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn status(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<SystemStatus>> {
    caller.require(Need::Owner)?;
    let system = std::sync::Arc::clone(&s.system);
    let status = tokio::task::spawn_blocking(move || system.status())
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&format!("reading the data directory's disk: {e}")))?;
    Ok(Json(status))
}

#[utoipa::path(post, path = "/api/system/integrity-check", tag = "system",
    responses(
        (status = 200, body = IntegrityReport,
            description = "SQLite's verdict: `{\"ok\":true,\"result\":[\"ok\"]}`, or `ok: false` and the problems found"),
        (status = 401, body = ErrorBody, description = "unauthenticated"),
        (status = 403, body = ErrorBody, description = "forbidden, csrf_failed"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn integrity_check(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<IntegrityReport>> {
    caller.require(Need::Owner)?;
    Ok(Json(s.system.integrity.full_check().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactoryResetRequest {
    /// The owner's passphrase, checked as at login (and rate-limited alike).
    #[schema(value_type = String)]
    pub passphrase: Zeroizing<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FactoryResetAccepted {
    /// Always `true`: on the OS image the box reboots and wipes its data.
    pub reboot: bool,
}

#[utoipa::path(post, path = "/api/system/factory-reset", tag = "system",
    request_body = FactoryResetRequest,
    responses(
        (status = 202, body = FactoryResetAccepted,
            description = "Requested: `<data_dir>/factory-reset` is written; on the OS image the box reboots and wipes its data"),
        (status = 401, body = ErrorBody, description = "wrong_passphrase, unauthenticated"),
        (status = 403, body = ErrorBody, description = "forbidden, csrf_failed"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn factory_reset(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<FactoryResetRequest>,
) -> ApiResult<(StatusCode, Json<FactoryResetAccepted>)> {
    caller.require(Need::Owner)?;
    s.auth
        .verify_passphrase(ip, req.passphrase, "factory reset")
        .await?;
    let system = std::sync::Arc::clone(&s.system);
    tokio::task::spawn_blocking(move || factory_reset::request(system.data_dir()))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&format!("writing the factory reset request: {e}")))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(FactoryResetAccepted { reboot: true }),
    ))
}
