//! The owner's passphrase policy: long enough and not guessable.
//!
//! Strength is estimated with zxcvbn (Dropbox's estimator, as used by
//! password managers); the box requires score 3 of 4 ("safely unguessable")
//! and at least 10 characters, and says why a passphrase was refused.

use serde::Serialize;

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

/// What the strength meter of the web app shows, from the same estimator
/// and policy as [`check_strength`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Strength {
    /// 0 (trivial) to 4 (very strong).
    pub score: u8,
    /// Whether the box would accept it.
    pub acceptable: bool,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

pub fn estimate(passphrase: &str, context: &[&str]) -> Strength {
    if passphrase.len() > MAX_BYTES {
        return Strength {
            score: 0,
            acceptable: false,
            warning: Some(format!("use at most {MAX_BYTES} bytes")),
            suggestions: vec![],
        };
    }
    let estimate = zxcvbn::zxcvbn(passphrase, context);
    let long_enough = passphrase.chars().count() >= MIN_CHARS;
    let score = u8::from(estimate.score());
    let (mut warning, mut suggestions) = match estimate.feedback() {
        Some(fb) => (
            fb.warning().map(|w| w.to_string()),
            fb.suggestions().iter().map(ToString::to_string).collect(),
        ),
        None => (None, vec![]),
    };
    if !long_enough {
        warning.get_or_insert_with(|| format!("use at least {MIN_CHARS} characters"));
        suggestions.push("a few unrelated words make a strong passphrase".to_owned());
    }
    Strength {
        score: if long_enough { score } else { score.min(2) },
        acceptable: long_enough && check_strength(passphrase, context).is_ok(),
        warning,
        suggestions,
    }
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

    #[test]
    fn the_meter_agrees_with_the_policy() {
        for p in [
            "short",
            "password123",
            "qwertyuiop123",
            "correct horse battery staple",
        ] {
            assert_eq!(
                estimate(p, &[]).acceptable,
                check_strength(p, &[]).is_ok(),
                "{p}"
            );
        }
        assert!(estimate("short", &[]).warning.is_some());
    }
}
