//! Documents: create, read, replace, delete, `_find` and `_bulk_docs`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed};
use crate::auth::scopes::Need;
use crate::vault::docs::{BulkResult, DocRef, FindRequest, FindResponse};

#[utoipa::path(post, path = "/api/docs/{doctype}", tag = "docs",
    params(("doctype" = String, Path, description = "e.g. bank.operation")),
    request_body(content = Object, description = "The document's fields; `_id` may be chosen"),
    responses(
        (status = 201, body = DocRef),
        (status = 404, body = ErrorBody, description = "unknown_doctype"),
        (status = 409, body = ErrorBody, description = "an _id that exists"),
        (status = 422, body = ErrorBody, description = "invalid_document (names the field)"),
    ),
    security(("session" = []), ("bearer" = ["docs:write"])))]
pub async fn create(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(doctype): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<DocRef>)> {
    caller.require(Need::DocsWrite(&doctype))?;
    let r = s.vault.create_doc(&doctype, body).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(get, path = "/api/docs/{doctype}/{id}", tag = "docs",
    params(("doctype" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, body = Object, description = "The fields plus `_id` and `_rev`"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = ["docs:read"])))]
pub async fn get(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path((doctype, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require(Need::DocsRead(&doctype))?;
    Ok(Json(s.vault.get_doc(&doctype, &id).await?))
}

#[utoipa::path(put, path = "/api/docs/{doctype}/{id}", tag = "docs",
    params(("doctype" = String, Path), ("id" = String, Path)),
    request_body(content = Object, description = "The new fields and the current `_rev` (omit `_rev` to create under this id)"),
    responses(
        (status = 200, body = DocRef, description = "Replaced"),
        (status = 201, body = DocRef, description = "Created under this id"),
        (status = 409, body = ErrorBody, description = "stale or missing _rev"),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = ["docs:write"])))]
pub async fn put(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path((doctype, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<DocRef>)> {
    caller.require(Need::DocsWrite(&doctype))?;
    let (r, created) = s.vault.put_doc(&doctype, &id, body).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(r),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RevQuery {
    /// The current revision (or send it in `If-Match`).
    pub rev: Option<String>,
}

#[utoipa::path(delete, path = "/api/docs/{doctype}/{id}", tag = "docs",
    params(("doctype" = String, Path), ("id" = String, Path), RevQuery),
    responses(
        (status = 200, body = DocRef, description = "Deleted; `_rev` is the tombstone's"),
        (status = 400, body = ErrorBody, description = "missing_rev"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "stale _rev"),
    ),
    security(("session" = []), ("bearer" = ["docs:write"])))]
pub async fn delete(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path((doctype, id)): Path<(String, String)>,
    Query(q): Query<RevQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<DocRef>> {
    caller.require(Need::DocsWrite(&doctype))?;
    let rev = q
        .rev
        .or_else(|| {
            headers
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim_matches('"').to_owned())
        })
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_rev",
                "send the current revision as ?rev= or If-Match",
            )
        })?;
    Ok(Json(s.vault.delete_doc(&doctype, &id, &rev).await?))
}

#[utoipa::path(post, path = "/api/docs/{doctype}/_find", tag = "docs",
    params(("doctype" = String, Path)), request_body = FindRequest,
    responses(
        (status = 200, body = FindResponse),
        (status = 400, body = ErrorBody, description = "invalid_selector, invalid_sort, no_index, invalid_bookmark"),
    ),
    security(("session" = []), ("bearer" = ["docs:read"])))]
pub async fn find(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(doctype): Path<String>,
    ApiJson(req): ApiJson<FindRequest>,
) -> ApiResult<Json<FindResponse>> {
    caller.require(Need::DocsRead(&doctype))?;
    Ok(Json(s.vault.find(&doctype, req).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// Documents to create (no `_id` or a new one), replace (`_id` + `_rev`)
    /// or delete (`_id` + `_rev` + `"_deleted": true`).
    #[schema(value_type = Vec<Object>)]
    pub docs: Vec<Value>,
}

#[utoipa::path(post, path = "/api/docs/{doctype}/_bulk_docs", tag = "docs",
    params(("doctype" = String, Path)), request_body = BulkRequest,
    responses((status = 201, body = Vec<BulkResult>, description = "One result per document, in order")),
    security(("session" = []), ("bearer" = ["docs:write"])))]
pub async fn bulk_docs(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(doctype): Path<String>,
    ApiJson(req): ApiJson<BulkRequest>,
) -> ApiResult<(StatusCode, Json<Vec<BulkResult>>)> {
    caller.require(Need::DocsWrite(&doctype))?;
    Ok((
        StatusCode::CREATED,
        Json(s.vault.bulk_docs(&doctype, req.docs).await?),
    ))
}
