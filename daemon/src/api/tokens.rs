//! API tokens: create (shown once), list, revoke. Owner only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Authed};
use crate::auth::scopes::{Need, Scope};
use crate::auth::tokens::{self, TokenInfo};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for ("backup script", "kitchen tablet").
    pub name: String,
    /// e.g. `["docs:read:bill", "files:read"]`; see docs/api.md.
    pub scopes: Vec<String>,
    /// Lifetime in seconds; none: until revoked.
    pub expires_in: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// The secret, shown this once: `Authorization: Bearer <token>`.
    #[schema(value_type = String)]
    pub token: Zeroizing<String>,
    #[serde(flatten)]
    pub info: TokenInfo,
}

#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = TokenRequest,
    responses(
        (status = 201, body = NewToken),
        (status = 400, body = ErrorBody, description = "invalid_scope"),
        (status = 403, body = ErrorBody, description = "forbidden"),
    ),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn create(
    State(s): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    caller.require(Need::Owner)?;
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name: 1 to 100 characters",
        ));
    }
    if req.scopes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_scope",
            "a token needs at least one scope",
        ));
    }
    let scopes = req
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let expires = match req.expires_in {
        None => None,
        Some(0) => {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                "expires_in must be positive",
            ));
        }
        Some(secs) => {
            let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
            Some(
                time::OffsetDateTime::now_utc()
                    .unix_timestamp()
                    .saturating_add(secs),
            )
        }
    };
    let (info, token) = tokens::create(s.auth.db(), name, scopes, expires).await?;
    Ok((StatusCode::CREATED, Json(NewToken { token, info })))
}

#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>)),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn list(
    State(s): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    caller.require(Need::Owner)?;
    Ok(Json(tokens::list(s.auth.db()).await?))
}

#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["owner"])))]
pub async fn revoke(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Need::Owner)?;
    tokens::revoke(s.auth.db(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
