//! The change feed: what changed since a sequence number, with long polling.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Authed;
use crate::auth::scopes::Need;
use crate::vault::docs::ChangesPage;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChangesQuery {
    /// Return changes after this sequence number (default 0).
    pub since: Option<i64>,
    /// At most this many results (default 1000, maximum 10000).
    pub limit: Option<u32>,
    /// `longpoll`: when nothing changed yet, wait for a change (up to `timeout`).
    pub feed: Option<String>,
    /// Long-poll wait in milliseconds (default 30000, maximum 60000).
    pub timeout: Option<u64>,
    /// Only this doctype.
    pub doctype: Option<String>,
}

#[utoipa::path(get, path = "/api/changes", tag = "docs", params(ChangesQuery),
    responses((status = 200, body = ChangesPage), (status = 400, body = ErrorBody)),
    security(("session" = []), ("bearer" = ["docs:read"])))]
pub async fn changes(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Json<ChangesPage>> {
    caller.require(Need::Changes)?;
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::bad_request(
            "invalid_since",
            "since must be 0 or more",
        ));
    }
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let longpoll = match q.feed.as_deref() {
        None | Some("normal") => false,
        Some("longpoll") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_feed",
                format!("feed {other:?}: use normal or longpoll"),
            ));
        }
    };
    let allowed = caller.readable_doctypes();
    let filter = match (q.doctype, allowed) {
        (Some(d), Some(allowed)) if !allowed.contains(&d) => {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                format!("this credential cannot read {d}"),
            ));
        }
        (Some(d), _) => Some(vec![d]),
        (None, allowed) => allowed,
    };
    let wait = Duration::from_millis(q.timeout.unwrap_or(30_000).min(60_000));
    // Subscribe before reading, so a change between the read and the wait still wakes us.
    let mut rx = s.vault.subscribe_changes();
    let deadline = tokio::time::Instant::now() + wait;
    let mut stopping = s.shutdown.clone();
    loop {
        let page = s.vault.changes(since, limit, filter.clone()).await?;
        if !page.results.is_empty() || !longpoll {
            return Ok(Json(page));
        }
        tokio::select! {
            changed = tokio::time::timeout_at(deadline, rx.changed()) => match changed {
                Ok(Ok(())) => continue,
                // Timed out: answer with what we have (nothing new).
                _ => return Ok(Json(page)),
            },
            // The box is stopping: do not hold up the graceful shutdown.
            () = stopping.wait() => return Ok(Json(page)),
        }
    }
}
