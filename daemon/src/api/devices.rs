//! The owner's devices and sessions (`GET /api/devices`, `DELETE
//! /api/devices/{id}`) and pairing a phone by QR code (`POST /api/pairing`,
//! `POST /api/pairing/redeem`). The logic is in `auth::sessions` and
//! `auth::pairing`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed, ClientIp};
use super::owner::{LoginResponse, session_response};
use crate::auth::Caller;
use crate::auth::scopes::Need;
use crate::auth::sessions::{self, Device};
use crate::net::{tls, trust};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceList {
    /// Most recently used first.
    pub devices: Vec<Device>,
}

#[utoipa::path(get, path = "/api/devices", tag = "devices",
    responses((status = 200, body = DeviceList), (status = 403, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn list(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<DeviceList>> {
    caller.require(Need::Owner)?;
    let current = match &caller {
        Caller::Session(session) => Some(session.id.clone()),
        Caller::Token { .. } => None,
    };
    let devices = sessions::list(s.auth.db(), current).await?;
    Ok(Json(DeviceList { devices }))
}

#[utoipa::path(delete, path = "/api/devices/{id}", tag = "devices",
    params(("id" = String, Path, description = "The device's id")),
    responses(
        (status = 204, description = "Revoked: its next request is refused"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn revoke(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Need::Owner)?;
    if sessions::revoke(s.auth.db(), id.clone()).await? {
        tracing::info!(device = %id, "a device was revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such device"))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Pairing {
    /// The one-time code (also inside `url`).
    #[schema(value_type = String)]
    pub code: Zeroizing<String>,
    /// What the QR code holds: the box's HTTPS URL, with the code and the CA
    /// fingerprint in the fragment.
    pub url: String,
    /// Unix seconds; the code is refused after that or once used.
    pub expires: i64,
    /// The QR code, an SVG document.
    pub qr_svg: String,
    /// The same URL by the box's LAN address, for phones that cannot
    /// resolve `.local` names (absent when the box has no LAN address).
    pub address_url: Option<String>,
    /// Its QR code, an SVG document.
    pub address_qr_svg: Option<String>,
}

#[utoipa::path(post, path = "/api/pairing", tag = "devices",
    responses((status = 201, body = Pairing), (status = 403, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn start(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<(StatusCode, Json<Pairing>)> {
    caller.require(Need::Owner)?;
    let p = s.auth.start_pairing().await?;
    let links = trust::PairingLinks::new(
        &s.info.lan_hostname(),
        tls::lan_addresses().first().copied(),
        s.info.https_port,
        &p.code,
        &s.info.ca_fingerprint,
    )
    .map_err(|e| ApiError::internal(&e))?;
    Ok((
        StatusCode::CREATED,
        Json(Pairing {
            code: p.code,
            url: links.url,
            expires: p.expires,
            qr_svg: links.qr_svg,
            address_url: links.address_url,
            address_qr_svg: links.address_qr_svg,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    #[schema(value_type = String)]
    pub code: Zeroizing<String>,
    /// How the device appears in the owner's list ("Camille's phone").
    pub device_name: String,
}

#[utoipa::path(post, path = "/api/pairing/redeem", tag = "devices", request_body = RedeemRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Paired; the session cookie is set",
            headers(("set-cookie" = String, description = "foyer_session, HttpOnly; Secure; SameSite=Strict"))),
        (status = 403, body = ErrorBody, description = "wrong_pairing_code"),
        (status = 429, body = ErrorBody, description = "rate_limited"),
    ))]
pub async fn redeem(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> ApiResult<Response> {
    let session = s
        .auth
        .redeem_pairing(ip, &req.code, &req.device_name)
        .await?;
    Ok(session_response(session))
}
