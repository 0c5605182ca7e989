//! Browser sessions, which are also the owner's *devices*: a random cookie
//! value (only its SHA-256 is stored) and a per-session CSRF value that
//! state-changing requests must echo in `X-CSRF-Token`.
//!
//! Two kinds: `login` (a passphrase typed in a browser; 30 days) and `paired`
//! (a phone that redeemed a pairing code; a year, extended while it is used).
//! Each has a public id and a name, so the owner can see every device's last
//! use and revoke it; a revoked session fails its very next request, since
//! every request looks the cookie up in the database.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rusqlite::OptionalExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::system::now;
use crate::vault::VaultError;
use crate::vault::db::Db;

pub const COOKIE: &str = "foyer_session";
pub const LIFETIME_SECS: i64 = 30 * 86_400;
/// A paired device's credential lives a year past its last use.
pub const PAIRED_LIFETIME_SECS: i64 = 365 * 86_400;
/// Longest device name kept.
pub const NAME_MAX_CHARS: usize = 64;

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The passphrase, typed in a browser.
    Login,
    /// A pairing code (QR), redeemed by a phone.
    Paired,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Paired => "paired",
        }
    }

    fn lifetime(self) -> i64 {
        match self {
            Kind::Login => LIFETIME_SECS,
            Kind::Paired => PAIRED_LIFETIME_SECS,
        }
    }
}

/// A session just created: the cookie value is shown once, to the browser.
pub struct NewSession {
    pub id: String,
    pub name: String,
    pub cookie_value: Zeroizing<String>,
    pub csrf: String,
    pub expires: i64,
    pub lifetime: i64,
}

/// A valid session, looked up from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub hash: Vec<u8>,
    pub csrf: String,
}

/// A device as the owner sees it in the settings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds (updated at most once a minute).
    pub last_seen: i64,
    /// Unix seconds.
    pub expires: i64,
    /// The address it last logged in or paired from.
    pub client: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A device name as given by a person (or a browser), kept printable and short.
pub fn clean_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_MAX_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "Browser".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// A short, readable name from a `User-Agent` ("Chrome on Android").
pub fn name_from_user_agent(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Mac OS X", "macOS"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("Browser on {o}"),
        (None, None) => "Browser".to_owned(),
    }
}

pub async fn create(
    db: &Arc<Db>,
    kind: Kind,
    name: String,
    client: String,
) -> Result<NewSession, VaultError> {
    create_if(db, kind, name, client, |_| Ok(true))
        .await?
        .ok_or_else(|| VaultError::Internal("session creation refused".into()))
}

/// Creates a session only if `check`, run in the same transaction, says so
/// (a pairing code is spent and the session created atomically).
pub async fn create_if<F>(
    db: &Arc<Db>,
    kind: Kind,
    name: String,
    client: String,
    check: F,
) -> Result<Option<NewSession>, VaultError>
where
    F: FnOnce(&rusqlite::Transaction<'_>) -> Result<bool, VaultError> + Send + 'static,
{
    let cookie_value = Zeroizing::new(B64URL.encode(rand::random::<[u8; 32]>()));
    let csrf = B64URL.encode(rand::random::<[u8; 24]>());
    let id = hex::encode(rand::random::<[u8; 8]>());
    let t = now();
    let lifetime = kind.lifetime();
    let expires = t + lifetime;
    let h = hash(&cookie_value);
    let (c, i, n) = (csrf.clone(), id.clone(), name.clone());
    let created = db
        .write(move |tx| {
            if !check(tx)? {
                return Ok(false);
            }
            tx.execute("DELETE FROM sessions WHERE expires < ?1", [t])?;
            tx.execute(
                "INSERT INTO sessions(hash, csrf, created, last_seen, expires, client, id, name, kind) \
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![h, c, t, expires, client, i, n, kind.as_str()],
            )?;
            Ok(true)
        })
        .await?;
    Ok(created.then_some(NewSession {
        id,
        name,
        cookie_value,
        csrf,
        expires,
        lifetime,
    }))
}

pub async fn lookup(db: &Arc<Db>, cookie_value: &str) -> Result<Option<Session>, VaultError> {
    let h = hash(cookie_value);
    let t = now();
    let found: Option<(String, String, i64, String)> = {
        let h = h.clone();
        db.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT id, csrf, last_seen, kind FROM sessions WHERE hash = ?1 AND expires > ?2",
            )?
            .query_row(rusqlite::params![h, t], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?)
        })
        .await?
    };
    let Some((id, csrf, last_seen, kind)) = found else {
        return Ok(None);
    };
    if t - last_seen > 60 {
        let h2 = h.clone();
        // A paired device stays paired while it is used.
        let extend_to = (kind == Kind::Paired.as_str()).then_some(t + PAIRED_LIFETIME_SECS);
        db.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET last_seen = ?2, expires = max(expires, coalesce(?3, expires)) WHERE hash = ?1",
                rusqlite::params![h2, t, extend_to],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(Some(Session { id, hash: h, csrf }))
}

/// Every live session, most recently used first.
pub async fn list(db: &Arc<Db>, current: Option<String>) -> Result<Vec<Device>, VaultError> {
    let t = now();
    db.read(move |c| {
        let mut stmt = c.prepare_cached(
            "SELECT id, name, kind, created, last_seen, expires, client FROM sessions \
             WHERE expires > ?1 ORDER BY last_seen DESC, created DESC",
        )?;
        let rows = stmt.query_map([t], |r| {
            let id: String = r.get(0)?;
            let kind: String = r.get(2)?;
            Ok(Device {
                current: current.as_deref() == Some(id.as_str()),
                id,
                name: r
                    .get::<_, Option<String>>(1)?
                    .unwrap_or_else(|| "Browser".into()),
                kind: if kind == "paired" {
                    Kind::Paired
                } else {
                    Kind::Login
                },
                created: r.get(3)?,
                last_seen: r.get(4)?,
                expires: r.get(5)?,
                client: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
    .await
}

/// Ends one session by its public id; whether it existed.
pub async fn revoke(db: &Arc<Db>, id: String) -> Result<bool, VaultError> {
    db.write(move |tx| Ok(tx.execute("DELETE FROM sessions WHERE id = ?1", [id])? > 0))
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_become_readable_names() {
        assert_eq!(
            name_from_user_agent(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
            ),
            "Chrome on Android"
        );
        assert_eq!(
            name_from_user_agent(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iPhone"
        );
        assert_eq!(name_from_user_agent("curl/8.5.0"), "curl");
        assert_eq!(name_from_user_agent(""), "Browser");
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  Phone\u{0}\n "), "Phone");
        assert_eq!(clean_name("\t"), "Browser");
        assert_eq!(clean_name(&"é".repeat(100)).chars().count(), NAME_MAX_CHARS);
    }
}
