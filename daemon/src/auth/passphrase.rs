//! The owner's passphrase policy: long enough and not guessable.
//!
//! Strength is estimated with zxcvbn (Dropbox's estimator, as used by
//! password managers); the box requires score 3 of 4 ("safely unguessable")
//! and at least 10 characters, and says why a passphrase was refused.

use super::AuthError;

pub const MIN_CHARS: usize = 10;
pub const MAX_BYTES: usize = 1024;

/// Refuses a weak passphrase with a message the owner can act on.
pub fn check_strength(passphrase: &str, context: &[&str]) -> Result<(), AuthError> {
    if passphrase.chars().count() < MIN_CHARS {
        return Err(AuthError::WeakPassphrase(format!(
            "use at least {MIN_CHARS} characters; a few unrelated words make a strong passphrase"
        )));
    }
    if passphrase.len() > MAX_BYTES {
        return Err(AuthError::WeakPassphrase(format!(
            "use at most {MAX_BYTES} bytes"
        )));
    }
    let estimate = zxcvbn::zxcvbn(passphrase, context);
    if estimate.score() < zxcvbn::Score::Three {
        let mut advice = String::from("this passphrase is too easy to guess");
        if let Some(fb) = estimate.feedback() {
            if let Some(w) = fb.warning() {
                advice.push_str(&format!(": {w}"));
            }
            for s in fb.suggestions() {
                advice.push_str(&format!(". {s}"));
            }
        }
        return Err(AuthError::WeakPassphrase(advice));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong() {
        assert!(check_strength("short", &[]).is_err());
        assert!(check_strength("password123", &[]).is_err());
        assert!(check_strength("aaaaaaaaaaaaaa", &[]).is_err());
        assert!(check_strength("qwertyuiop123", &[]).is_err());
        assert!(check_strength("correct horse battery staple", &[]).is_ok());
    }
}
