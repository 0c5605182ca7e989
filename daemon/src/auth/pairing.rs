//! Pairing a phone without typing the passphrase on it.
//!
//! The owner, logged in somewhere, asks for a pairing code; the box shows it
//! as a QR code holding `https://foyer-XXXX.local:PORT/#pair=CODE&fp=CA`.
//! The phone's camera opens that URL; the web app compares `fp` with the
//! fingerprint of the CA the connection was verified with, and redeems the
//! code for a `paired` session (a long-lived device credential, see
//! [`super::sessions`]). The code is 128 random bits, stored only as its
//! SHA-256, valid for [`PAIRING_LIFETIME_SECS`] and for one redemption: the
//! row is deleted in the same transaction that creates the session. It sits
//! in the URL *fragment*, which browsers never send to a server or log.

use std::sync::Arc;

use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

use super::sessions::{self, Kind, NewSession};
use crate::system::now;
use crate::vault::VaultError;
use crate::vault::db::Db;

/// A pairing code is good for ten minutes.
pub const PAIRING_LIFETIME_SECS: i64 = 600;
/// At most this many unredeemed codes are kept (older ones are dropped).
const MAX_PENDING: i64 = 8;

/// A code just made; shown once.
pub struct NewPairing {
    pub code: Zeroizing<String>,
    pub expires: i64,
}

fn normalise(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase()
}

pub async fn create(db: &Arc<Db>) -> Result<NewPairing, VaultError> {
    let code = Zeroizing::new(BASE32_NOPAD.encode(&rand::random::<[u8; 16]>()));
    let h = sessions::hash(&code);
    let t = now();
    let expires = t + PAIRING_LIFETIME_SECS;
    db.write(move |tx| {
        tx.execute("DELETE FROM pairings WHERE expires <= ?1", [t])?;
        tx.execute(
            "INSERT INTO pairings(hash, created, expires) VALUES (?1, ?2, ?3)",
            rusqlite::params![h, t, expires],
        )?;
        tx.execute(
            "DELETE FROM pairings WHERE hash NOT IN \
             (SELECT hash FROM pairings ORDER BY created DESC LIMIT ?1)",
            [MAX_PENDING],
        )?;
        Ok(())
    })
    .await?;
    Ok(NewPairing { code, expires })
}

/// Redeems a code for a paired session; `None` when the code is wrong,
/// expired or already used.
pub async fn redeem(
    db: &Arc<Db>,
    code: &str,
    device_name: String,
    client: String,
) -> Result<Option<NewSession>, VaultError> {
    let h = sessions::hash(&normalise(code));
    let t = now();
    sessions::create_if(db, Kind::Paired, device_name, client, move |tx| {
        tx.execute("DELETE FROM pairings WHERE expires <= ?1", [t])?;
        Ok(tx.execute("DELETE FROM pairings WHERE hash = ?1", [h])? == 1)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_like_people_type_them() {
        assert_eq!(normalise(" abcd-efgh \n"), "ABCDEFGH");
    }
}
