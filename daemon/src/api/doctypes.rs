//! Document types: list them, read one's schema, register a custom one.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed};
use crate::auth::scopes::Need;
use crate::vault::doctypes::Doctype;

#[derive(Serialize, utoipa::ToSchema)]
pub struct DoctypeInfo {
    pub name: String,
    pub builtin: bool,
    /// Indexed fields: `_find` can narrow and sort on these.
    pub indexes: Vec<String>,
    /// The JSON Schema documents are checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
}

fn info(d: &Doctype, with_schema: bool) -> DoctypeInfo {
    DoctypeInfo {
        name: d.name.clone(),
        builtin: d.builtin,
        indexes: d.indexes.clone(),
        schema: if with_schema { d.schema.clone() } else { None },
    }
}

#[utoipa::path(get, path = "/api/doctypes", tag = "docs",
    responses((status = 200, body = Vec<DoctypeInfo>)),
    security(("session" = []), ("bearer" = [])))]
pub async fn list(State(s): State<AppState>, _caller: Authed) -> Json<Vec<DoctypeInfo>> {
    Json(
        s.vault
            .doctypes
            .list()
            .iter()
            .map(|d| info(d, false))
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/doctypes/{doctype}", tag = "docs",
    params(("doctype" = String, Path)),
    responses((status = 200, body = DoctypeInfo), (status = 404, body = ErrorBody, description = "unknown_doctype")),
    security(("session" = []), ("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _caller: Authed,
    Path(doctype): Path<String>,
) -> ApiResult<Json<DoctypeInfo>> {
    let d = s.vault.doctypes.get(&doctype)?;
    Ok(Json(info(&d, true)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoctypeRequest {
    /// Optional JSON Schema; without one any JSON object is accepted.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
    /// Fields to index (dotted paths).
    #[serde(default)]
    pub indexes: Vec<String>,
}

#[utoipa::path(put, path = "/api/doctypes/{doctype}", tag = "docs",
    params(("doctype" = String, Path)), request_body = DoctypeRequest,
    responses(
        (status = 200, body = DoctypeInfo),
        (status = 400, body = ErrorBody, description = "invalid_doctype / invalid_field"),
        (status = 409, body = ErrorBody, description = "built-in doctypes cannot be replaced"),
        (status = 422, body = ErrorBody, description = "invalid schema"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn put(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(doctype): Path<String>,
    ApiJson(req): ApiJson<DoctypeRequest>,
) -> ApiResult<Json<DoctypeInfo>> {
    caller.require(Need::Owner)?;
    let d = s
        .vault
        .doctypes
        .register(&s.vault.db, &doctype, req.schema, req.indexes)
        .await?;
    Ok(Json(info(&d, true)))
}
