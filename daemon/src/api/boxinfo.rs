//! `GET /api/box`, `PUT /api/box`: what the settings screen shows about the
//! box (names, version, CA fingerprint, where to download the CA) and the
//! name the owner gives it.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed};
use crate::auth::scopes::Need;
use crate::net::trust;
use crate::net::urls::{self, Scheme};
use crate::system::settings;

#[derive(Serialize, utoipa::ToSchema)]
pub struct BoxView {
    /// The device id (32 hex characters).
    pub id: String,
    /// `foyer-XXXX`, from the device identity.
    pub hostname: String,
    /// The name the box answers to on the LAN now (without `.local`): the
    /// host name, or `foyer-XXXX-N` when another device took that name.
    pub lan_hostname: String,
    /// The name the owner gave the box (default: the host name).
    pub name: String,
    pub version: &'static str,
    pub claimed: bool,
    /// SHA-256 of the box CA certificate (DER), lowercase hex.
    pub ca_fingerprint: String,
    /// The same, grouped for people: `AB:CD:…`.
    pub ca_fingerprint_grouped: String,
    pub https_url: String,
    /// The plain-HTTP helper: `/ca.pem`, `/ca.crt`, `/ca.mobileconfig`, `/trust`.
    pub http_url: String,
}

async fn view(s: &AppState) -> ApiResult<BoxView> {
    let info = &s.info;
    let name = settings::name(&s.vault.db)
        .await?
        .unwrap_or_else(|| info.hostname.clone());
    let lan_hostname = info.lan_hostname();
    let host = urls::local_name(&lan_hostname);
    Ok(BoxView {
        id: info.id.clone(),
        hostname: info.hostname.clone(),
        lan_hostname,
        name,
        version: info.version,
        claimed: s.auth.is_claimed(),
        ca_fingerprint: info.ca_fingerprint.clone(),
        ca_fingerprint_grouped: trust::grouped_fingerprint(&info.ca_fingerprint),
        https_url: urls::https_root(&host, info.https_port),
        http_url: format!("{}/", urls::origin(Scheme::Http, &host, info.http_port)),
    })
}

#[utoipa::path(get, path = "/api/box", tag = "box",
    responses((status = 200, body = BoxView), (status = 401, body = ErrorBody)),
    security(("session" = []), ("bearer" = [])))]
pub async fn get(State(s): State<AppState>, _caller: Authed) -> ApiResult<Json<BoxView>> {
    Ok(Json(view(&s).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxUpdate {
    /// 1 to 64 characters ("Maison", "Flat in Lyon").
    pub name: String,
}

#[utoipa::path(put, path = "/api/box", tag = "box", request_body = BoxUpdate,
    responses(
        (status = 200, body = BoxView),
        (status = 400, body = ErrorBody, description = "invalid_name"),
        (status = 403, body = ErrorBody, description = "forbidden"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn put(
    State(s): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<BoxUpdate>,
) -> ApiResult<Json<BoxView>> {
    caller.require(Need::Owner)?;
    settings::set_name(&s.vault.db, &req.name).await?;
    Ok(Json(view(&s).await?))
}
