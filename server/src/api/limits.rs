//! Rate limits on the credential endpoints, per client address and per username, so password
//! guessing is slow from one address and against one account from many.
//!
//! The buckets live in this process: behind a load balancer each API node limits on its own,
//! which bounds an attacker at nodes × rate.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

pub struct AuthLimiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_username: DefaultKeyedRateLimiter<String>,
    guests_by_address: DefaultKeyedRateLimiter<IpAddr>,
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
        AuthLimiter {
            by_address: RateLimiter::keyed(per_minute(per_address)),
            by_username: RateLimiter::keyed(per_minute(per_username)),
            guests_by_address: RateLimiter::keyed(per_minute(guests_per_address)),
        }
    }

    /// A password login or registration attempt from `address` for `username`.
    pub fn check_credentials(&self, address: IpAddr, username: &str) -> Result<(), ApiError> {
        if self.by_address.check_key(&address).is_err() {
            return Err(too_many(
                "too many attempts from this address; try again in a minute",
            ));
        }
        if self
            .by_username
            .check_key(&username.to_lowercase())
            .is_err()
        {
            return Err(too_many(
                "too many attempts for this username; try again in a minute",
            ));
        }
        Ok(())
    }

    /// A guest login from `address`.
    pub fn check_guest(&self, address: IpAddr) -> Result<(), ApiError> {
        self.guests_by_address
            .check_key(&address)
            .map_err(|_| too_many("too many guest logins from this address; try again in a minute"))
    }

    /// Drops buckets that are full again, so the maps do not grow without bound.
    pub fn forget_idle(&self) {
        self.by_address.retain_recent();
        self.by_username.retain_recent();
        self.guests_by_address.retain_recent();
    }
}

fn too_many(message: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        message,
    )
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
}
