//! Files and folders (`/api/files/{path}`) and the trash (`/api/trash`).
//!
//! `PUT` streams the raw body into an encrypted blob (a path ending in `/`
//! creates a folder); `GET` streams a file back with `Range` and `ETag`
//! support, or lists a folder as JSON; `PATCH` moves or renames; `DELETE`
//! moves to the trash.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed};
use crate::auth::scopes::Need;
use crate::vault::files::{Entry, FilePath, Listing, TrashEntry, UploadOptions};

/// The hand-registered wildcard routes (documented through [`FilesApi`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/files/",
            get(get_root)
                .put(put_root)
                .patch(patch_root)
                .delete(delete_root),
        )
        .route(
            "/api/files/{*path}",
            get(download)
                .put(upload)
                .patch(rename)
                .delete(trash)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(download, upload, rename, trash))]
pub struct FilesApi;

async fn get_root(
    state: State<AppState>,
    authed: Authed,
    headers: HeaderMap,
) -> ApiResult<Response> {
    download(state, authed, Path(String::new()), headers).await
}

async fn put_root(_: Authed) -> ApiError {
    ApiError::bad_request(
        "invalid_path",
        "name the file or folder: PUT /api/files/<path>",
    )
}

async fn patch_root(_: Authed) -> ApiError {
    ApiError::bad_request("invalid_path", "the root folder cannot be moved")
}

async fn delete_root(_: Authed) -> ApiError {
    ApiError::bad_request("invalid_path", "the root folder cannot be deleted")
}

fn parse_digest(headers: &HeaderMap) -> ApiResult<Option<[u8; 32]>> {
    // RFC 9530: Content-Digest: sha-256=:BASE64:
    if let Some(v) = headers.get("content-digest").and_then(|v| v.to_str().ok()) {
        for item in v.split(',') {
            let item = item.trim();
            if let Some(b64) = item
                .strip_prefix("sha-256=:")
                .and_then(|s| s.strip_suffix(':'))
            {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| {
                        ApiError::bad_request(
                            "invalid_digest",
                            "Content-Digest sha-256 is not base64",
                        )
                    })?;
                return raw.try_into().map(Some).map_err(|_| {
                    ApiError::bad_request("invalid_digest", "a SHA-256 digest is 32 bytes")
                });
            }
        }
    }
    if let Some(v) = headers
        .get("x-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        let raw = hex::decode(v.trim())
            .map_err(|_| ApiError::bad_request("invalid_digest", "X-Content-SHA256 is not hex"))?;
        return raw
            .try_into()
            .map(Some)
            .map_err(|_| ApiError::bad_request("invalid_digest", "a SHA-256 digest is 32 bytes"));
    }
    Ok(None)
}

#[utoipa::path(put, path = "/api/files/{path}", tag = "files",
    params(("path" = String, Path, description = "Slash-separated; ending with / creates a folder")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The raw content, streamed. Optional `Content-Digest: sha-256=:…:` or `X-Content-SHA256: <hex>` is verified"),
    responses(
        (status = 201, body = Entry, description = "Created"),
        (status = 200, body = Entry, description = "Replaced"),
        (status = 400, body = ErrorBody, description = "invalid_path"),
        (status = 409, body = ErrorBody, description = "a folder is in the way"),
        (status = 422, body = ErrorBody, description = "digest_mismatch: nothing stored"),
        (status = 507, body = ErrorBody, description = "insufficient_storage"),
    ),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn upload(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Entry>)> {
    caller.require(Need::FilesWrite)?;
    let path = FilePath::parse(&raw)?;
    if path.trailing_slash {
        let entry = s.vault.files.mkdir(&path).await?;
        return Ok((StatusCode::CREATED, Json(entry)));
    }
    let opts = UploadOptions {
        content_length: headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()),
        expected_sha256: parse_digest(&headers)?,
        mime: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() < 200)
            .map(str::to_owned),
    };
    let (entry, created) = s
        .vault
        .files
        .upload(&path, opts, body.into_data_stream())
        .await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(entry),
    ))
}

#[utoipa::path(get, path = "/api/files/{path}", tag = "files",
    params(("path" = String, Path, description = "A file, or a folder ending with /"),
        ("Range" = Option<String>, Header, description = "bytes=start-end"),
        ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, description = "The file's content, or a folder's listing (JSON)", body = Listing),
        (status = 206, description = "The requested range"),
        (status = 304, description = "Not modified (ETag)"),
        (status = 404, body = ErrorBody),
        (status = 416, body = ErrorBody, description = "range_not_satisfiable"),
    ),
    security(("session" = []), ("bearer" = ["files:read"])))]
pub async fn download(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(Need::FilesRead)?;
    let path = FilePath::parse(&raw)?;
    let is_dir = path.trailing_slash || s.vault.files.stat(&path).await?.kind == "dir";
    if is_dir {
        return Ok(Json(s.vault.files.list(&path).await?).into_response());
    }
    let file = s.vault.files.open_file(&path).await?;
    let size = file.entry.size;
    let file_sha = file.entry.sha256.clone();
    let etag = format!("\"{}\"", file.entry.sha256.clone().unwrap_or_default());
    let mime = file
        .entry
        .mime
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());

    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }

    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if if_range_ok && size > 0 => {
            match http_range_header::parse_range_header(r).and_then(|p| p.validate(size)) {
                Ok(ranges) if ranges.len() == 1 => Some((*ranges[0].start(), *ranges[0].end())),
                Ok(_) => None, // several ranges: answer with the whole file
                Err(_) => {
                    let mut e = ApiError::new(
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "range_not_satisfiable",
                        format!("the file has {size} bytes"),
                    )
                    .into_response();
                    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                        e.headers_mut().insert(header::CONTENT_RANGE, v);
                    }
                    return Ok(e);
                }
            }
        }
        _ => None,
    };
    let (status, start, end) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b),
        None => (StatusCode::OK, 0, size.saturating_sub(1)),
    };
    let length = if size == 0 { 0 } else { end - start + 1 };
    let body = if size == 0 {
        Body::empty()
    } else {
        Body::from_stream(file.stream(start, end))
    };
    let mut resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, etag)
        // A stored HTML or SVG file must not run as the box's own page.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        )
        .body(body)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    // RFC 9530: the digest of the whole file, whatever range is sent.
    if let Some(raw) = file_sha.as_deref().and_then(|h| hex::decode(h).ok())
        && let Ok(v) = HeaderValue::from_str(&format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    {
        resp.headers_mut().insert("repr-digest", v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}"))
    {
        resp.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The new path (missing folders are created).
    pub to: String,
}

#[utoipa::path(patch, path = "/api/files/{path}", tag = "files",
    params(("path" = String, Path)), request_body = MoveRequest,
    responses(
        (status = 200, body = Entry, description = "Moved or renamed"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the destination exists"),
    ),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn rename(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> ApiResult<Json<Entry>> {
    caller.require(Need::FilesWrite)?;
    let from = FilePath::parse(&raw)?;
    let to = FilePath::parse(req.to.trim_start_matches('/'))?;
    Ok(Json(s.vault.files.rename(&from, &to).await?))
}

#[utoipa::path(delete, path = "/api/files/{path}", tag = "files",
    params(("path" = String, Path)),
    responses((status = 200, body = Entry, description = "Moved to the trash"), (status = 404, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn trash(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(raw): Path<String>,
) -> ApiResult<Json<Entry>> {
    caller.require(Need::FilesWrite)?;
    let path = FilePath::parse(&raw)?;
    Ok(Json(s.vault.files.trash(&path).await?))
}

#[utoipa::path(get, path = "/api/trash", tag = "files",
    responses((status = 200, body = Vec<TrashEntry>)),
    security(("session" = []), ("bearer" = ["files:read"])))]
pub async fn list_trash(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<Vec<TrashEntry>>> {
    caller.require(Need::FilesRead)?;
    Ok(Json(s.vault.files.list_trash().await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Purged {
    pub removed: usize,
}

#[utoipa::path(delete, path = "/api/trash", tag = "files",
    responses((status = 200, body = Purged, description = "The trash is empty; space is freed")),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn empty_trash(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<Purged>> {
    caller.require(Need::FilesWrite)?;
    Ok(Json(Purged {
        removed: s.vault.files.purge(None).await?,
    }))
}

#[utoipa::path(post, path = "/api/trash/{id}/restore", tag = "files",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Entry, description = "Back where it was"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "something else is there now"),
    ),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn restore(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Entry>> {
    caller.require(Need::FilesWrite)?;
    Ok(Json(s.vault.files.restore(&id).await?))
}

#[utoipa::path(delete, path = "/api/trash/{id}", tag = "files",
    params(("id" = String, Path)),
    responses((status = 200, body = Purged), (status = 404, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["files:write"])))]
pub async fn purge(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Purged>> {
    caller.require(Need::FilesWrite)?;
    Ok(Json(Purged {
        removed: s.vault.files.purge(Some(&id)).await?,
    }))
}
