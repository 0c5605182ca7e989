//! The owner: claiming the box, logging in and out, changing the passphrase,
//! recovering with the recovery key.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed, ClientIp};
use crate::auth::Caller;
use crate::auth::sessions::{self, COOKIE};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The code on the box's label (or printed by a development box).
    pub claim_code: String,
    /// At least 10 characters and hard to guess.
    #[schema(value_type = String)]
    pub passphrase: Zeroizing<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupResponse {
    /// Shown once: the only way back in if the passphrase is lost.
    #[schema(value_type = String)]
    pub recovery_key: Zeroizing<String>,
}

#[utoipa::path(post, path = "/api/setup", tag = "owner", request_body = SetupRequest,
    responses(
        (status = 201, body = SetupResponse, description = "The box is claimed"),
        (status = 403, body = ErrorBody, description = "wrong_claim_code"),
        (status = 409, body = ErrorBody, description = "already_claimed"),
        (status = 422, body = ErrorBody, description = "weak_passphrase"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn setup(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<SetupResponse>)> {
    let recovery_key = s.auth.setup(ip, &req.claim_code, req.passphrase).await?;
    Ok((StatusCode::CREATED, Json(SetupResponse { recovery_key })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(value_type = String)]
    pub passphrase: Zeroizing<String>,
    /// How this browser appears in the owner's device list (default: from its User-Agent).
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send it back in `X-CSRF-Token` with every state-changing request.
    pub csrf: String,
    /// Unix seconds.
    pub expires: i64,
    /// This session as it appears in `GET /api/devices`.
    pub device: DeviceRef,
}

fn session_cookie(value: &str, max_age: i64) -> Option<HeaderValue> {
    let c = cookie::Cookie::build((COOKIE, value.to_owned()))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

#[utoipa::path(post, path = "/api/session", tag = "owner", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Logged in; the session cookie is set",
            headers(("set-cookie" = String, description = "foyer_session, HttpOnly; Secure; SameSite=Strict"))),
        (status = 401, body = ErrorBody, description = "wrong_passphrase"),
        (status = 409, body = ErrorBody, description = "not_claimed"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let name = req.device_name.unwrap_or_else(|| {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        sessions::name_from_user_agent(ua)
    });
    let session = s.auth.login(ip, req.passphrase, name).await?;
    Ok(session_response(session))
}

/// The answer that opens a session: the CSRF value in the body, the secret
/// in an HttpOnly cookie.
pub fn session_response(session: sessions::NewSession) -> Response {
    let mut resp = Json(LoginResponse {
        csrf: session.csrf,
        expires: session.expires,
        device: DeviceRef {
            id: session.id,
            name: session.name,
        },
    })
    .into_response();
    if let Some(v) = session_cookie(&session.cookie_value, session.lifetime) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceRef {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// `session` or `token`.
    pub kind: &'static str,
    /// The session's CSRF value (sessions only), for a reloaded page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/session", tag = "owner",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)),
    security(("session" = []), ("bearer" = [])))]
pub async fn session_info(Authed(caller): Authed) -> Json<SessionInfo> {
    Json(match caller {
        Caller::Session(s) => SessionInfo {
            kind: "session",
            csrf: Some(s.csrf),
            scopes: None,
        },
        Caller::Token { scopes, .. } => SessionInfo {
            kind: "token",
            csrf: None,
            scopes: Some(scopes.iter().map(ToString::to_string).collect()),
        },
    })
}

#[utoipa::path(delete, path = "/api/session", tag = "owner",
    responses((status = 204, description = "Logged out; the cookie is cleared")),
    security(("session" = [])))]
pub async fn logout(State(s): State<AppState>, Authed(caller): Authed) -> ApiResult<Response> {
    if let Caller::Session(session) = caller {
        sessions::delete(s.auth.db(), session.hash).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = session_cookie("", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassphraseChange {
    #[schema(value_type = String)]
    pub current: Zeroizing<String>,
    #[schema(value_type = String)]
    pub new: Zeroizing<String>,
}

#[utoipa::path(put, path = "/api/passphrase", tag = "owner", request_body = PassphraseChange,
    responses(
        (status = 204, description = "Changed; every session is ended"),
        (status = 401, body = ErrorBody, description = "wrong_passphrase"),
        (status = 422, body = ErrorBody, description = "weak_passphrase"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn change_passphrase(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<PassphraseChange>,
) -> ApiResult<StatusCode> {
    caller.require(crate::auth::scopes::Need::Owner)?;
    s.auth.change_passphrase(ip, req.current, req.new).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    #[schema(value_type = String)]
    pub recovery_key: Zeroizing<String>,
    #[schema(value_type = String)]
    pub new_passphrase: Zeroizing<String>,
}

#[utoipa::path(post, path = "/api/recovery", tag = "owner", request_body = RecoveryRequest,
    responses(
        (status = 200, body = SetupResponse, description = "New passphrase set; a new recovery key replaces the used one"),
        (status = 401, body = ErrorBody, description = "wrong_recovery_key"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn recover(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RecoveryRequest>,
) -> ApiResult<Json<SetupResponse>> {
    let recovery_key = s
        .auth
        .recover(ip, req.recovery_key, req.new_passphrase)
        .await?;
    Ok(Json(SetupResponse { recovery_key }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StrengthRequest {
    #[schema(value_type = String)]
    pub passphrase: Zeroizing<String>,
}

#[utoipa::path(post, path = "/api/passphrase/strength", tag = "owner", request_body = StrengthRequest,
    responses((status = 200, body = crate::auth::passphrase::Strength,
        description = "How hard the passphrase is to guess, as the box judges it (nothing is stored)")))]
pub async fn strength(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<StrengthRequest>,
) -> Json<crate::auth::passphrase::Strength> {
    Json(crate::auth::passphrase::estimate(
        &req.passphrase,
        &["foyer", s.info.hostname.as_str()],
    ))
}
