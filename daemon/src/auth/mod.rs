//! Who may do what: the claim code, the owner's passphrase, sessions, API
//! tokens, and the rate limits on every secret check.
//!
//! - [`claim`]: the label's claim code, required to set the box up.
//! - [`passphrase`]: the strength policy.
//! - [`sessions`]: browser sessions (cookie + CSRF value), which are the
//!   owner's devices; [`pairing`]: one-time codes that pair a phone.
//! - [`tokens`]: bearer tokens with scopes; [`scopes`] what each allows.
//! - [`ratelimit`]: attempts per client and for the whole box.
//!
//! The passphrase is never stored, not even hashed: checking it means
//! unwrapping the vault's master key with it (Argon2id), see `vault::keys`.

pub mod claim;
pub mod pairing;
pub mod passphrase;
pub mod ratelimit;
pub mod scopes;
pub mod sessions;
pub mod tokens;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use zeroize::Zeroizing;

use crate::vault::VaultError;
use crate::vault::db::Db;
use crate::vault::keys::{KeyError, Keyring, MasterKey};
use claim::ClaimCode;
use scopes::{Need, Scope};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the claim code is wrong")]
    WrongClaimCode,
    #[error("the box is already claimed")]
    AlreadyClaimed,
    #[error("the box is not claimed yet: set it up first with its claim code")]
    NotClaimed,
    #[error("weak passphrase: {0}")]
    WeakPassphrase(String),
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("wrong recovery key")]
    WrongRecoveryKey,
    #[error("this pairing code is wrong, expired or already used: ask for a new one")]
    WrongPairingCode,
    #[error("too many attempts; retry in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("authentication required: a session cookie or a bearer token")]
    Unauthenticated,
    #[error("the X-CSRF-Token header is missing or wrong")]
    Csrf,
    #[error("this credential lacks the {0} scope")]
    Forbidden(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("key store: {0}")]
    Key(#[from] KeyError),
    #[error("internal: {0}")]
    Internal(String),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The owner, through a browser session.
    Session(sessions::Session),
    /// A script or device, through a bearer token.
    Token { id: String, scopes: Vec<Scope> },
}

impl Caller {
    /// Refuses the request unless the caller is allowed `need`.
    pub fn require(&self, need: Need<'_>) -> Result<(), AuthError> {
        match self {
            Caller::Session(_) => Ok(()),
            Caller::Token { scopes, .. } if scopes::allows(scopes, need) => Ok(()),
            Caller::Token { .. } => Err(AuthError::Forbidden(need.to_string())),
        }
    }

    /// Doctypes whose changes this caller may read (`None`: all).
    pub fn readable_doctypes(&self) -> Option<Vec<String>> {
        match self {
            Caller::Session(_) => None,
            Caller::Token { scopes, .. } => scopes::readable_doctypes(scopes),
        }
    }
}

pub struct Auth {
    data_dir: PathBuf,
    db: Arc<Db>,
    master: Arc<MasterKey>,
    keyring: Arc<Mutex<Keyring>>,
    claim: Mutex<Option<Arc<ClaimCode>>>,
    /// One Argon2id run at a time: bounds memory (64 MiB each) and CPU.
    kdf_gate: Semaphore,
    attempts: ratelimit::SecretAttempts,
    hostname: String,
    claimed: watch::Sender<bool>,
}

impl Auth {
    pub fn new(
        data_dir: PathBuf,
        db: Arc<Db>,
        master: Arc<MasterKey>,
        keyring: Keyring,
        provisioned_code: Option<PathBuf>,
        hostname: String,
    ) -> Result<Auth, AuthError> {
        let is_claimed = keyring.has_passphrase();
        let claim = if is_claimed {
            // Claimed (maybe a crash right after setup): no code may linger.
            claim::remove_file(&data_dir).map_err(|e| AuthError::Internal(e.to_string()))?;
            None
        } else {
            let code = ClaimCode::load_or_create(&data_dir, provisioned_code.as_deref())
                .map_err(|e| AuthError::Internal(format!("claim code: {e}")))?;
            if code.provisioned {
                tracing::info!("the box is unclaimed; claim it with the code on its label");
            } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                // A developer watching a terminal: nothing keeps this line.
                // Logs that are kept (the journal, a file) never get the
                // code; they say where to read it.
                tracing::info!(claim_code = %code.display(), "the box is unclaimed; claim it with this code (also in {})", data_dir.join("claim-code").display());
            } else {
                tracing::info!(
                    "the box is unclaimed; its claim code is in {} (and on the console, when configured)",
                    data_dir.join("claim-code").display()
                );
            }
            Some(Arc::new(code))
        };
        Ok(Auth {
            data_dir,
            db,
            master,
            keyring: Arc::new(Mutex::new(keyring)),
            claim: Mutex::new(claim),
            kdf_gate: Semaphore::new(1),
            attempts: ratelimit::SecretAttempts::default(),
            hostname,
            claimed: watch::Sender::new(is_claimed),
        })
    }

    /// The claim code of an unclaimed box, grouped for people
    /// (`XXXX-XXXX-XXXX`), for the box's own console; never logged.
    pub fn claim_code(&self) -> Option<Zeroizing<String>> {
        self.claim
            .lock()
            .ok()?
            .as_ref()
            .map(|c| Zeroizing::new(c.display()))
    }

    pub fn is_claimed(&self) -> bool {
        self.claim.lock().map(|c| c.is_none()).unwrap_or(true)
    }

    /// Follows the claimed state (for the mDNS TXT record).
    pub fn watch_claimed(&self) -> watch::Receiver<bool> {
        self.claimed.subscribe()
    }

    fn rate_limit(&self, client: IpAddr) -> Result<(), AuthError> {
        self.attempts.check(client).map_err(AuthError::RateLimited)
    }

    /// Runs a key-wrapping operation on a blocking thread, one at a time.
    async fn with_keyring<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Keyring, &MasterKey) -> Result<R, AuthError> + Send + 'static,
    ) -> Result<R, AuthError> {
        let _permit = self
            .kdf_gate
            .acquire()
            .await
            .map_err(|_| AuthError::Internal("key gate closed".into()))?;
        let keyring = Arc::clone(&self.keyring);
        let master = Arc::clone(&self.master);
        tokio::task::spawn_blocking(move || {
            let mut ring = keyring
                .lock()
                .map_err(|_| AuthError::Internal("keyring lock poisoned".into()))?;
            f(&mut ring, &master)
        })
        .await
        .map_err(|e| AuthError::Internal(format!("key task: {e}")))?
    }

    /// Claims the box: checks the claim code, sets the owner's passphrase,
    /// returns the recovery key (to be shown once).
    pub async fn setup(
        &self,
        client: IpAddr,
        code: &str,
        passphrase: Zeroizing<String>,
    ) -> Result<Zeroizing<String>, AuthError> {
        self.rate_limit(client)?;
        let claim = self
            .claim
            .lock()
            .map_err(|_| AuthError::Internal("claim lock poisoned".into()))?
            .clone()
            .ok_or(AuthError::AlreadyClaimed)?;
        if !claim.verify(code) {
            tracing::warn!(%client, "setup with a wrong claim code");
            return Err(AuthError::WrongClaimCode);
        }
        let context = ["foyer", self.hostname.as_str()];
        passphrase::check_strength(&passphrase, &context)?;
        let recovery = self
            .with_keyring(move |ring, master| {
                if ring.has_passphrase() {
                    return Err(AuthError::AlreadyClaimed);
                }
                ring.set_passphrase(master, &passphrase)?;
                let recovery = ring.new_recovery_key(master);
                ring.save()?;
                Ok(recovery)
            })
            .await?;
        if let Ok(mut c) = self.claim.lock() {
            *c = None;
        }
        claim::remove_file(&self.data_dir).map_err(|e| AuthError::Internal(e.to_string()))?;
        self.claimed.send_replace(true);
        tracing::info!("the box is claimed");
        Ok(recovery)
    }

    /// Checks the passphrase and opens a session.
    pub async fn login(
        &self,
        client: IpAddr,
        passphrase: Zeroizing<String>,
        device_name: String,
    ) -> Result<sessions::NewSession, AuthError> {
        self.verify_passphrase(client, passphrase, "login").await?;
        Ok(sessions::create(
            &self.db,
            sessions::Kind::Login,
            sessions::clean_name(&device_name),
            client.to_string(),
        )
        .await?)
    }

    /// Checks the owner's passphrase as a login does — rate-limited per
    /// client and for the whole box, one Argon2id run at a time — before an
    /// action that needs it confirmed (`what` names the action in the log).
    pub async fn verify_passphrase(
        &self,
        client: IpAddr,
        passphrase: Zeroizing<String>,
        what: &'static str,
    ) -> Result<(), AuthError> {
        if !self.is_claimed() {
            return Err(AuthError::NotClaimed);
        }
        self.rate_limit(client)?;
        self.with_keyring(move |ring, _| match ring.verify_passphrase(&passphrase) {
            Ok(_) => Ok(()),
            Err(KeyError::WrongKey) => Err(AuthError::WrongPassphrase),
            Err(e) => Err(e.into()),
        })
        .await
        .inspect_err(|e| {
            if matches!(e, AuthError::WrongPassphrase) {
                tracing::warn!(%client, "{what} with a wrong passphrase");
            }
        })
    }

    /// Makes a one-time pairing code (the caller must be the owner).
    pub async fn start_pairing(&self) -> Result<pairing::NewPairing, AuthError> {
        if !self.is_claimed() {
            return Err(AuthError::NotClaimed);
        }
        let p = pairing::create(&self.db).await?;
        tracing::info!("a pairing code was issued");
        Ok(p)
    }

    /// Redeems a pairing code for a long-lived device session.
    pub async fn redeem_pairing(
        &self,
        client: IpAddr,
        code: &str,
        device_name: &str,
    ) -> Result<sessions::NewSession, AuthError> {
        if !self.is_claimed() {
            return Err(AuthError::NotClaimed);
        }
        self.rate_limit(client)?;
        let name = sessions::clean_name(device_name);
        match pairing::redeem(&self.db, code, name, client.to_string()).await? {
            Some(s) => {
                tracing::info!(device = %s.name, %client, "a device was paired");
                Ok(s)
            }
            None => {
                tracing::warn!(%client, "pairing with a wrong, expired or used code");
                Err(AuthError::WrongPairingCode)
            }
        }
    }

    /// Changes the passphrase (re-wraps the master key; re-encrypts nothing)
    /// and ends every session.
    pub async fn change_passphrase(
        &self,
        client: IpAddr,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<(), AuthError> {
        self.rate_limit(client)?;
        passphrase::check_strength(&new, &["foyer", self.hostname.as_str()])?;
        self.with_keyring(move |ring, master| {
            match ring.verify_passphrase(&current) {
                Ok(_) => {}
                Err(KeyError::WrongKey) => return Err(AuthError::WrongPassphrase),
                Err(e) => return Err(e.into()),
            }
            ring.set_passphrase(master, &new)?;
            ring.save()?;
            Ok(())
        })
        .await?;
        sessions::delete_all(&self.db).await?;
        tracing::info!("the owner passphrase was changed");
        Ok(())
    }

    /// Sets a new passphrase with the recovery key; issues a new recovery key
    /// (the used one stops working) and ends every session.
    pub async fn recover(
        &self,
        client: IpAddr,
        recovery_key: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<Zeroizing<String>, AuthError> {
        if !self.is_claimed() {
            return Err(AuthError::NotClaimed);
        }
        self.rate_limit(client)?;
        passphrase::check_strength(&new, &["foyer", self.hostname.as_str()])?;
        let fresh = self
            .with_keyring(move |ring, master| {
                match ring.verify_recovery_key(&recovery_key) {
                    Ok(_) => {}
                    Err(KeyError::WrongKey) => return Err(AuthError::WrongRecoveryKey),
                    Err(e) => return Err(e.into()),
                }
                ring.set_passphrase(master, &new)?;
                let fresh = ring.new_recovery_key(master);
                ring.save()?;
                Ok(fresh)
            })
            .await?;
        sessions::delete_all(&self.db).await?;
        tracing::info!("the owner passphrase was reset with the recovery key");
        Ok(fresh)
    }

    /// Identifies the caller from a session cookie or a bearer token.
    /// `state_changing` requests made with a cookie must carry the CSRF value.
    pub async fn authenticate(
        &self,
        cookie: Option<&str>,
        bearer: Option<&str>,
        csrf_header: Option<&str>,
        state_changing: bool,
    ) -> Result<Caller, AuthError> {
        if let Some(secret) = bearer {
            return match tokens::lookup(&self.db, secret).await? {
                Some((id, scopes)) => Ok(Caller::Token { id, scopes }),
                None => Err(AuthError::Unauthenticated),
            };
        }
        let Some(cookie) = cookie else {
            return Err(AuthError::Unauthenticated);
        };
        let session = sessions::lookup(&self.db, cookie)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        if state_changing {
            use subtle::ConstantTimeEq;
            let ok = csrf_header.is_some_and(|h| {
                h.len() == session.csrf.len()
                    && bool::from(h.as_bytes().ct_eq(session.csrf.as_bytes()))
            });
            if !ok {
                return Err(AuthError::Csrf);
            }
        }
        Ok(Caller::Session(session))
    }

    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }
}
