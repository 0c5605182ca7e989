//! Rate limits on everything that checks a secret (claim code, passphrase,
//! recovery key): per client address and for the whole box.
//!
//! Limits (documented in `docs/api.md`):
//! - per client IP: a burst of 5 attempts, then one every 12 s (5 a minute);
//! - whole box: a burst of 20 attempts, then one every 3 s (20 a minute),
//!   so that many addresses together cannot make a fast guessing machine.
//!
//! Every attempt counts, right or wrong: each costs an Argon2id run (64 MiB),
//! so the limit also bounds the memory and CPU an attacker can make us spend.
//! Refusals carry `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct SecretAttempts {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

pub const PER_CLIENT_BURST: u32 = 5;
pub const PER_CLIENT_PERIOD: Duration = Duration::from_secs(12);
pub const GLOBAL_BURST: u32 = 20;
pub const GLOBAL_PERIOD: Duration = Duration::from_secs(3);

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Default for SecretAttempts {
    fn default() -> Self {
        SecretAttempts {
            per_client: RateLimiter::keyed(quota(PER_CLIENT_BURST, PER_CLIENT_PERIOD)),
            global: RateLimiter::direct(quota(GLOBAL_BURST, GLOBAL_PERIOD)),
            clock: DefaultClock::default(),
        }
    }
}

impl SecretAttempts {
    /// Records an attempt from `client`; `Err(wait)` when it must be refused.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Err(not_until) = self.per_client.check_key(&client_key(client)) {
            return Err(not_until.wait_time_from(now));
        }
        if let Err(not_until) = self.global.check() {
            return Err(not_until.wait_time_from(now));
        }
        // Forget idle clients now and then, so the table stays small.
        if self.per_client.len() > 10_000 {
            self.per_client.retain_recent();
        }
        Ok(())
    }
}

/// Who counts as one client: an IPv4 address, or an IPv6 /64 (one host
/// takes as many addresses in its /64 as it likes, with privacy extensions).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_per_client_only() {
        let limits = SecretAttempts::default();
        let a: IpAddr = [192, 168, 1, 10].into();
        let b: IpAddr = [192, 168, 1, 11].into();
        for _ in 0..PER_CLIENT_BURST {
            assert!(limits.check(a).is_ok());
        }
        let wait = limits.check(a).expect_err("6th attempt refused");
        assert!(wait > Duration::ZERO && wait <= PER_CLIENT_PERIOD);
        assert!(limits.check(b).is_ok(), "another client is not punished");
    }

    #[test]
    fn an_ipv6_host_is_one_client_whatever_its_address_in_the_64() {
        let limits = SecretAttempts::default();
        for i in 0..PER_CLIENT_BURST as u16 {
            let ip: IpAddr = [0xfd00, 0, 0, 1, 0xa, 0xb, 0xc, i].into();
            assert!(limits.check(ip).is_ok());
        }
        let rotated: IpAddr = [0xfd00, 0, 0, 1, 0x99, 0x98, 0x97, 0x96].into();
        assert!(
            limits.check(rotated).is_err(),
            "a new address in the same /64"
        );
        let other: IpAddr = [0xfd00, 0, 0, 2, 0xa, 0xb, 0xc, 0xd].into();
        assert!(limits.check(other).is_ok(), "another /64 is another client");
    }
}
