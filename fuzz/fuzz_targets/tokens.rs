//! Access and refresh tokens as the API receives them: in an `Authorization` header, or raw,
//! forged with the server's key or not. Verifying never panics, and what verifies is a token of
//! the kind asked for that has not expired. Also the tags that make opaque values the server
//! hands out (leaderboard cursors) tamper-proof: only the tag itself checks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::auth::{Claims, TokenError, TokenKeys, TokenKind};
use tickwire_fuzz::{TOKEN_SECRET, TokenMode, sign};

fn keys() -> TokenKeys {
    TokenKeys::new(TOKEN_SECRET, 3600, 30 * 24 * 3600)
}

fn keys_ttl(keys: &TokenKeys, kind: TokenKind) -> i64 {
    match kind {
        TokenKind::Access => keys.access_ttl_s,
        TokenKind::Refresh => keys.refresh_ttl_s,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Verifies `token` as both kinds at `now_s`; checks what passes.
fn verify(keys: &TokenKeys, token: &str, now_s: i64) -> [Result<Claims, TokenError>; 2] {
    [TokenKind::Access, TokenKind::Refresh].map(|kind| {
        let verified = keys.verify(token, kind, now_s);
        if let Ok(claims) = &verified {
            assert_eq!(claims.kind, kind, "the kind asked for");
            assert!(claims.exp >= now_s, "not expired");
        }
        let account = keys.verify_account(token, kind, now_s);
        match (&verified, &account) {
            (Ok(claims), Ok((id, same))) => {
                assert_eq!(claims, same, "the same claims");
                assert_eq!(claims.sub.parse::<i64>(), Ok(*id), "the id is the subject");
            }
            (Ok(claims), Err(e)) => {
                assert_eq!(*e, TokenError::Invalid, "only the id can fail");
                assert!(
                    claims.sub.parse::<i64>().is_err(),
                    "a subject that is no id"
                );
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "the same refusal"),
            (Err(_), Ok(_)) => panic!("verify_account accepted what verify refused"),
        }
        verified
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let keys = keys();
    match TokenMode::from_byte(mode) {
        TokenMode::Verify => {
            if let Ok(token) = std::str::from_utf8(bytes) {
                let _ = verify(&keys, token, now());
            }
        }
        TokenMode::SignedClaims => {
            let (header, claims) = match bytes.iter().position(|b| *b == 0) {
                Some(at) => (&bytes[..at], &bytes[at + 1..]),
                None => (&br#"{"alg":"HS256"}"#[..], bytes),
            };
            let token = sign(header, claims);
            let _ = verify(&keys, &token, now());
            // Under another key the same token is refused.
            let other = TokenKeys::new(b"another key entirely, 32 bytes!!", 60, 60);
            for result in verify(&other, &token, now()) {
                assert!(result.is_err(), "signed with another key");
            }
        }
        TokenMode::Header => {
            if let Some(token) = server::fuzzing::bearer_token(bytes) {
                assert!(!token.is_empty(), "an empty token is refused");
                let _ = verify(&keys, &token, now());
            }
        }
        TokenMode::Issue => {
            let Some((id, role)) = bytes.split_first_chunk::<8>() else {
                return;
            };
            let id = i64::from_le_bytes(*id);
            let Some((&kind, role)) = role.split_first() else {
                return;
            };
            let Ok(role) = std::str::from_utf8(role) else {
                return;
            };
            let kind = if kind & 1 == 0 {
                TokenKind::Access
            } else {
                TokenKind::Refresh
            };
            let issued = now();
            let token = keys.issue(id, role, kind, issued);
            let [access, refresh] = verify(&keys, &token, issued);
            let (ok, wrong) = match kind {
                TokenKind::Access => (access, refresh),
                TokenKind::Refresh => (refresh, access),
            };
            let claims = ok.expect("a fresh token verifies");
            assert_eq!(
                (claims.sub, claims.role.as_str()),
                (id.to_string(), role),
                "claims"
            );
            assert_eq!(
                wrong,
                Err(TokenError::WrongKind),
                "the other kind is refused"
            );
            assert_eq!(
                keys.verify(&token, kind, issued + keys_ttl(&keys, kind) + 1),
                Err(TokenError::Expired),
                "expired a second after its time"
            );
        }
        TokenMode::Tag => {
            let mut parts = bytes.splitn(3, |b| *b == 0);
            let (Some(purpose), Some(message)) = (parts.next(), parts.next()) else {
                return;
            };
            let Ok(purpose) = std::str::from_utf8(purpose) else {
                return;
            };
            let given = String::from_utf8_lossy(parts.next().unwrap_or_default());
            let made = keys.tag(purpose, message);
            assert!(
                keys.check_tag(purpose, message, &made),
                "its own tag checks"
            );
            assert_eq!(
                keys.check_tag(purpose, message, &given),
                given == made,
                "only the tag itself checks"
            );
            let other = format!("{purpose}!");
            assert!(!keys.check_tag(&other, message, &made), "another purpose");
        }
    }
});
