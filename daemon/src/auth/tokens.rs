//! API tokens for scripts and devices: `Authorization: Bearer foyer_…`.
//!
//! A token is 256 random bits shown once at creation; the box stores only its
//! SHA-256 (a slow hash adds nothing for a secret of that entropy), with its
//! name, scopes and optional expiry. Revocation deletes the row, so it takes
//! effect on the next request.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rusqlite::OptionalExtension;
use serde::Serialize;
use zeroize::Zeroizing;

use super::scopes::Scope;
use super::sessions::hash;
use crate::system::now;
use crate::vault::VaultError;
use crate::vault::db::Db;

pub const PREFIX: &str = "foyer_";

/// A token as listed (never with its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// Unix seconds.
    pub created: i64,
    pub expires: Option<i64>,
    pub last_used: Option<i64>,
}

fn scopes_from(text: &str) -> Result<Vec<Scope>, VaultError> {
    serde_json::from_str(text).map_err(|e| VaultError::Corrupt(format!("token scopes: {e}")))
}

pub async fn create(
    db: &Arc<Db>,
    name: String,
    scopes: Vec<Scope>,
    expires: Option<i64>,
) -> Result<(TokenInfo, Zeroizing<String>), VaultError> {
    let secret = Zeroizing::new(format!(
        "{PREFIX}{}",
        B64URL.encode(rand::random::<[u8; 32]>())
    ));
    let info = TokenInfo {
        id: uuid::Uuid::now_v7().simple().to_string(),
        name,
        scopes,
        created: now(),
        expires,
        last_used: None,
    };
    let h = hash(&secret);
    let row = info.clone();
    let scopes_json =
        serde_json::to_string(&row.scopes).map_err(|e| VaultError::Internal(e.to_string()))?;
    db.write(move |tx| {
        tx.execute(
            "INSERT INTO tokens(id, name, hash, scopes, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![row.id, row.name, h, scopes_json, row.created, row.expires],
        )?;
        Ok(())
    })
    .await?;
    Ok((info, secret))
}

/// The token's id and scopes, when `secret` is a live token.
pub async fn lookup(
    db: &Arc<Db>,
    secret: &str,
) -> Result<Option<(String, Vec<Scope>)>, VaultError> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let h = hash(secret);
    let t = now();
    let found: Option<(String, String, Option<i64>)> = db
        .read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, scopes, last_used FROM tokens WHERE hash = ?1 AND (expires IS NULL OR expires > ?2)",
            )?
            .query_row(rusqlite::params![h, t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
        })
        .await?;
    let Some((id, scopes, last_used)) = found else {
        return Ok(None);
    };
    if last_used.is_none_or(|l| t - l > 60) {
        let id2 = id.clone();
        db.write(move |tx| {
            tx.execute(
                "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
                rusqlite::params![id2, t],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(Some((id, scopes_from(&scopes)?)))
}

/// A `tokens` row: id, name, scopes (JSON), created, expires, last used.
type TokenRow = (String, String, String, i64, Option<i64>, Option<i64>);

pub async fn list(db: &Arc<Db>) -> Result<Vec<TokenInfo>, VaultError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT id, name, scopes, created, expires, last_used FROM tokens ORDER BY created",
        )?;
        let rows: Vec<TokenRow> = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, name, scopes, created, expires, last_used)| {
                Ok(TokenInfo {
                    id,
                    name,
                    scopes: scopes_from(&scopes)?,
                    created,
                    expires,
                    last_used,
                })
            })
            .collect()
    })
    .await
}

pub async fn revoke(db: &Arc<Db>, id: &str) -> Result<(), VaultError> {
    let id = id.to_owned();
    db.write(move |tx| {
        let n = tx.execute("DELETE FROM tokens WHERE id = ?1", [&id])?;
        if n == 0 {
            return Err(VaultError::NotFound(format!("token {id}")));
        }
        Ok(())
    })
    .await
}
