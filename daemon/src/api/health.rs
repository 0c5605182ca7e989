//! `GET /api/health`: is the box up, and what it is (no authentication).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;
use crate::system::factory_reset;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the daemon answers.
    pub status: &'static str,
    pub version: &'static str,
    /// `foyer-XXXX`.
    pub name: String,
    pub claimed: bool,
    /// SHA-256 of the box CA certificate (DER), hex: compare it with the label / mDNS.
    pub ca_fingerprint: String,
    /// A factory reset was requested (`POST /api/system/factory-reset`) and
    /// has not happened yet: the box is about to reboot and wipe its data.
    pub factory_reset_pending: bool,
}

#[utoipa::path(get, path = "/api/health", tag = "box",
    responses((status = 200, description = "The box is up", body = Health)))]
pub async fn health(State(s): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: s.info.version,
        name: s.info.hostname.clone(),
        claimed: s.auth.is_claimed(),
        ca_fingerprint: s.info.ca_fingerprint.clone(),
        factory_reset_pending: factory_reset::is_pending(s.system.data_dir()),
    })
}
