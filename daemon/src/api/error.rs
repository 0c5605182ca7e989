//! The one error type of the HTTP API: a status and a stable snake_case
//! `code`, rendered as `{"error":{"code","message"}}`.
//!
//! Every module error maps here, so clients can rely on `code` and people can
//! read `message`. Internal failures are logged with their details and
//! answered with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::vault::VaultError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: what a program should test.
    pub code: String,
    /// For people.
    pub message: String,
    /// The offending field of a refused document, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the box's log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> ApiError {
        match e {
            VaultError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            VaultError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            VaultError::Invalid { field, message } => ApiError {
                field,
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_document",
                    message,
                )
            },
            VaultError::BadRequest { code, message } => ApiError::bad_request(code, message),
            VaultError::UnknownDoctype(d) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_doctype",
                format!("unknown doctype {d}; register it with PUT /api/doctypes/{d}"),
            ),
            VaultError::InsufficientStorage(m) => {
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage", m)
            }
            VaultError::DigestMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "digest_mismatch",
                "the content does not match the announced SHA-256; nothing was stored",
            ),
            VaultError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the box is shutting down",
            ),
            other => ApiError::internal(&other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        let msg = e.to_string();
        match e {
            AuthError::WrongClaimCode => {
                ApiError::new(StatusCode::FORBIDDEN, "wrong_claim_code", msg)
            }
            AuthError::AlreadyClaimed => {
                ApiError::new(StatusCode::CONFLICT, "already_claimed", msg)
            }
            AuthError::NotClaimed => ApiError::new(StatusCode::CONFLICT, "not_claimed", msg),
            AuthError::WeakPassphrase(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_passphrase", msg)
            }
            AuthError::WrongPassphrase => {
                ApiError::new(StatusCode::UNAUTHORIZED, "wrong_passphrase", msg)
            }
            AuthError::WrongRecoveryKey => {
                ApiError::new(StatusCode::UNAUTHORIZED, "wrong_recovery_key", msg)
            }
            AuthError::WrongPairingCode => {
                ApiError::new(StatusCode::FORBIDDEN, "wrong_pairing_code", msg)
            }
            AuthError::RateLimited(wait) => ApiError {
                retry_after: Some(wait.as_secs().max(1)),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", msg)
            },
            AuthError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", msg)
            }
            AuthError::Csrf => ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", msg),
            AuthError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", msg),
            AuthError::InvalidScope(_) => ApiError::bad_request("invalid_scope", msg),
            AuthError::Vault(v) => v.into(),
            AuthError::Key(k) => ApiError::internal(&k),
            AuthError::Internal(m) => ApiError::internal(&m),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
