//! Browser sessions: a random cookie value (only its SHA-256 is stored) and a
//! per-session CSRF value that state-changing requests must echo in
//! `X-CSRF-Token`. Sessions expire 30 days after login.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::system::now;
use crate::vault::VaultError;
use crate::vault::db::Db;

pub const COOKIE: &str = "foyer_session";
pub const LIFETIME_SECS: i64 = 30 * 86_400;

/// A session just created: the cookie value is shown once, to the browser.
pub struct NewSession {
    pub cookie_value: Zeroizing<String>,
    pub csrf: String,
    pub expires: i64,
}

/// A valid session, looked up from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub hash: Vec<u8>,
    pub csrf: String,
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub async fn create(db: &Arc<Db>, client: String) -> Result<NewSession, VaultError> {
    let cookie_value = Zeroizing::new(B64URL.encode(rand::random::<[u8; 32]>()));
    let csrf = B64URL.encode(rand::random::<[u8; 24]>());
    let t = now();
    let expires = t + LIFETIME_SECS;
    let h = hash(&cookie_value);
    let c = csrf.clone();
    db.write(move |tx| {
        tx.execute("DELETE FROM sessions WHERE expires < ?1", [t])?;
        tx.execute(
            "INSERT INTO sessions(hash, csrf, created, last_seen, expires, client) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
            rusqlite::params![h, c, t, expires, client],
        )?;
        Ok(())
    })
    .await?;
    Ok(NewSession {
        cookie_value,
        csrf,
        expires,
    })
}

pub async fn lookup(db: &Arc<Db>, cookie_value: &str) -> Result<Option<Session>, VaultError> {
    let h = hash(cookie_value);
    let t = now();
    let found: Option<(String, i64)> = {
        let h = h.clone();
        db.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT csrf, last_seen FROM sessions WHERE hash = ?1 AND expires > ?2",
            )?
            .query_row(rusqlite::params![h, t], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
        })
        .await?
    };
    let Some((csrf, last_seen)) = found else {
        return Ok(None);
    };
    if t - last_seen > 60 {
        let h2 = h.clone();
        db.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET last_seen = ?2 WHERE hash = ?1",
                rusqlite::params![h2, t],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(Some(Session { hash: h, csrf }))
}

pub async fn delete(db: &Arc<Db>, hash: Vec<u8>) -> Result<(), VaultError> {
    db.write(move |tx| {
        tx.execute("DELETE FROM sessions WHERE hash = ?1", [hash])?;
        Ok(())
    })
    .await
}

/// Ends every session (after a passphrase change or a recovery).
pub async fn delete_all(db: &Arc<Db>) -> Result<(), VaultError> {
    db.write(|tx| {
        tx.execute("DELETE FROM sessions", [])?;
        Ok(())
    })
    .await
}
