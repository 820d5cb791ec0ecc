//! Rate limits on the credential endpoints, per client address and per username, so password
//! guessing is slow from one address and against one account from many.
//!
//! The buckets live in this process: behind a load balancer each API node limits on its own,
//! which bounds an attacker at nodes × rate. On PostgreSQL (where several API nodes may share
//! the accounts) attempts per username are also counted in the database, in fixed one-minute
//! windows, so guessing one account's password stays at the limit however many nodes there are
//! ([`check_shared_username`]). Per address stays per node: one address reaching every node is
//! the smaller threat, and a database write per request would make every node pay for it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};

use super::error::ApiError;

pub struct AuthLimiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_username: DefaultKeyedRateLimiter<String>,
    guests_by_address: DefaultKeyedRateLimiter<IpAddr>,
    /// The clock of all three limiters, so a refusal's wait is measured on the clock that
    /// decided it (two clock instances need not agree on the current instant).
    clock: DefaultClock,
}

impl std::fmt::Debug for AuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimiter").finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl AuthLimiter {
    pub fn new(per_address: u32, per_username: u32, guests_per_address: u32) -> AuthLimiter {
        let clock = DefaultClock::default();
        AuthLimiter {
            by_address: RateLimiter::dashmap_with_clock(per_minute(per_address), &clock),
            by_username: RateLimiter::dashmap_with_clock(per_minute(per_username), &clock),
            guests_by_address: RateLimiter::dashmap_with_clock(
                per_minute(guests_per_address),
                &clock,
            ),
            clock,
        }
    }

    /// A password login or registration attempt from `address` for `username`.
    pub fn check_credentials(&self, address: IpAddr, username: &str) -> Result<(), ApiError> {
        if let Err(refusal) = self.by_address.check_key(&address) {
            return Err(self.too_many(
                "too many attempts from this address; try again in a minute",
                &refusal,
            ));
        }
        if let Err(refusal) = self.by_username.check_key(&username.to_lowercase()) {
            return Err(self.too_many(
                "too many attempts for this username; try again in a minute",
                &refusal,
            ));
        }
        Ok(())
    }

    /// A guest login from `address`.
    pub fn check_guest(&self, address: IpAddr) -> Result<(), ApiError> {
        self.guests_by_address
            .check_key(&address)
            .map_err(|refusal| {
                self.too_many(
                    "too many guest logins from this address; try again in a minute",
                    &refusal,
                )
            })
    }

    /// A 429 whose `Retry-After` says when the refused bucket lets the next attempt through.
    fn too_many(
        &self,
        message: &str,
        refusal: &NotUntil<<DefaultClock as Clock>::Instant>,
    ) -> ApiError {
        let wait = refusal.wait_time_from(self.clock.now());
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            message,
        )
        .retry_after(whole_seconds(wait))
    }

    /// Drops buckets that are full again, so the maps do not grow without bound.
    pub fn forget_idle(&self) {
        self.by_address.retain_recent();
        self.by_username.retain_recent();
        self.guests_by_address.retain_recent();
    }
}

/// Counts a password attempt against `username` in the shared database (PostgreSQL only) and
/// refuses it past `auth_attempts_per_username_per_minute` in the current minute.
pub async fn check_shared_username(
    state: &super::AppState,
    username: &str,
) -> Result<(), ApiError> {
    if state.store.backend() != crate::store::Backend::Postgres {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let window = now - now.rem_euclid(60_000);
    let key = format!("user:{}", username.to_lowercase());
    let attempts = state.store.count_attempt(&key, window).await?;
    let limit = i64::from(
        state
            .config
            .limits
            .auth_attempts_per_username_per_minute
            .max(1),
    );
    if attempts > limit {
        let wait = Duration::from_millis((window + 60_000 - now).max(1) as u64);
        return Err(ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many attempts for this username; try again in a minute",
        )
        .retry_after(whole_seconds(wait)));
    }
    Ok(())
}

/// `Retry-After` counts whole seconds: round up, so a client that waits that long gets
/// through, and never say 0 (which would invite an immediate retry that the bucket may still
/// refuse within the same second).
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_username_limit_holds_across_addresses() {
        let limiter = AuthLimiter::new(100, 3, 100);
        for i in 0..3 {
            let addr = IpAddr::from([10, 0, 0, i]);
            assert!(
                limiter.check_credentials(addr, "Alice").is_ok(),
                "attempt {i} allowed"
            );
        }
        let err = limiter
            .check_credentials(IpAddr::from([10, 0, 0, 9]), "alice")
            .unwrap_err();
        assert_eq!(
            err.status, 429,
            "fourth attempt on the same name, any case, is limited"
        );
        assert!(
            err.retry_after_s.is_some_and(|s| (1..=20).contains(&s)),
            "3 a minute: the next attempt within 20 s: {:?}",
            err.retry_after_s
        );
        assert!(
            limiter
                .check_credentials(IpAddr::from([10, 0, 0, 9]), "bob")
                .is_ok(),
            "others unaffected"
        );
    }

    #[test]
    fn the_address_limit_holds_across_usernames() {
        let limiter = AuthLimiter::new(2, 100, 100);
        let addr = IpAddr::from([10, 0, 0, 1]);
        assert!(limiter.check_credentials(addr, "a").is_ok(), "first");
        assert!(limiter.check_credentials(addr, "b").is_ok(), "second");
        assert!(
            limiter.check_credentials(addr, "c").is_err(),
            "third from one address is limited"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1, "never 0");
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1, "a moment");
        assert_eq!(whole_seconds(Duration::from_secs(6)), 6, "exact");
        assert_eq!(whole_seconds(Duration::from_millis(6001)), 7, "rounded up");
    }
}
