//! Credentials: signed bearer tokens (validated without a database read, so any API node can
//! serve any request), argon2id password hashes, and the keys kept in the data directory.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// What a token is good for; an access token cannot be used to refresh and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The claims inside a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account id, as a decimal string (JWT's `sub` is a string).
    pub sub: String,
    pub kind: TokenKind,
    /// `player` or `admin`.
    pub role: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
    #[error("this kind of token cannot be used here")]
    WrongKind,
}

/// Signs and checks tokens with one HMAC-SHA256 key.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl_s: i64,
    pub refresh_ttl_s: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl_s: i64, refresh_ttl_s: i64) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl_s,
            refresh_ttl_s,
        }
    }

    /// A token of `kind` for `account_id`, issued at `now_s` (Unix seconds).
    pub fn issue(&self, account_id: i64, role: &str, kind: TokenKind, now_s: i64) -> String {
        let ttl = match kind {
            TokenKind::Access => self.access_ttl_s,
            TokenKind::Refresh => self.refresh_ttl_s,
        };
        let claims = Claims {
            sub: account_id.to_string(),
            kind,
            role: role.to_string(),
            iat: now_s,
            exp: now_s + ttl,
        };
        // HS256 over serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims")
    }

    /// Checks the signature, the expiry at `now_s` (Unix seconds, no leeway) and the kind.
    pub fn verify(&self, token: &str, kind: TokenKind, now_s: i64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // The expiry is checked below against the caller's clock, the one tokens are issued
        // with, not the library's reading of the system time.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp < now_s {
            return Err(TokenError::Expired);
        }
        if data.claims.kind != kind {
            return Err(TokenError::WrongKind);
        }
        Ok(data.claims)
    }

    /// A tag (HMAC-SHA256 under the signing key, base64url) over `message`, for opaque values the
    /// server hands out and must get back unaltered, such as leaderboard cursors. `purpose`
    /// keeps the uses of the key apart: a tag made for one purpose never checks for another, nor
    /// is it a token signature (a token's signed input holds no NUL byte; a tagged one does).
    pub fn tag(&self, purpose: &str, message: &[u8]) -> String {
        // HMAC takes any key and any input: signing cannot fail.
        jsonwebtoken::crypto::sign(&tagged(purpose, message), &self.encoding, Algorithm::HS256)
            .expect("HMAC-SHA256 over bytes")
    }

    /// Whether `tag` is [`TokenKeys::tag`] of `message` for `purpose` (compared in constant time).
    pub fn check_tag(&self, purpose: &str, message: &[u8], tag: &str) -> bool {
        jsonwebtoken::crypto::verify(
            tag,
            &tagged(purpose, message),
            &self.decoding,
            Algorithm::HS256,
        )
        .unwrap_or(false)
    }

    /// Like [`TokenKeys::verify`], answering the account id.
    pub fn verify_account(
        &self,
        token: &str,
        kind: TokenKind,
        now_s: i64,
    ) -> Result<(i64, Claims), TokenError> {
        let claims = self.verify(token, kind, now_s)?;
        let id = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        Ok((id, claims))
    }
}

/// The input a tag covers: the purpose, a NUL, the message.
fn tagged(purpose: &str, message: &[u8]) -> Vec<u8> {
    [purpose.as_bytes(), b"\0", message].concat()
}

/// Hashes a password with argon2id and a random salt (slow on purpose: call off the runtime).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        // Only fails for parameters or salts out of range; ours are the library's defaults.
        .expect("argon2 with default parameters")
        .to_string()
}

/// Checks a password against a stored argon2 hash (slow on purpose: call off the runtime).
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// `bytes` random bytes, URL-safe base64: tickets, keys, ids.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Reads a secret from `path`, or makes one (32 random bytes) and writes it with owner-only
/// permissions. The same key survives restarts, so issued tokens stay valid.
pub fn load_or_create_secret(path: &Path, prefix: &str) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let secret = format!("{prefix}{}", random_token(32));
    write_private(path, &secret)?;
    Ok(secret)
}

/// Writes a file readable only by its owner (where the platform has permissions).
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"test secret key of enough length", 60, 3600)
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let token = keys().issue(42, "player", TokenKind::Access, now());
        let claims = keys()
            .verify(&token, TokenKind::Access, now())
            .expect("fresh token verifies");
        assert_eq!(claims.sub, "42", "account id survives");
        assert_eq!(claims.role, "player", "role survives");
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys().issue(1, "player", TokenKind::Access, now() - 120);
        assert_eq!(
            keys().verify(&token, TokenKind::Access, now()),
            Err(TokenError::Expired),
            "expired"
        );
        // The caller's clock decides, not the system time: a server clock moved on expires
        // tokens, one issued in the (clock's) future is not expired yet.
        let issued = now() + 7200;
        let token = keys().issue(1, "player", TokenKind::Access, issued);
        assert!(
            keys()
                .verify(&token, TokenKind::Access, issued + 60)
                .is_ok(),
            "valid through its last second"
        );
        assert_eq!(
            keys().verify(&token, TokenKind::Access, issued + 61),
            Err(TokenError::Expired),
            "expired one second later"
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = keys().issue(1, "player", TokenKind::Access, now());
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let forged = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"2","kind":"access","role":"admin","iat":{0},"exp":{1}}}"#,
            now(),
            now() + 60
        ));
        parts[1] = forged;
        assert_eq!(
            keys().verify(&parts.join("."), TokenKind::Access, now()),
            Err(TokenError::Invalid),
            "forged claims"
        );
        let other = TokenKeys::new(b"another secret key entirely here", 60, 60);
        assert_eq!(
            other.verify(&token, TokenKind::Access, now()),
            Err(TokenError::Invalid),
            "other key"
        );
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token() {
        let token = keys().issue(1, "player", TokenKind::Refresh, now());
        assert_eq!(
            keys().verify(&token, TokenKind::Access, now()),
            Err(TokenError::WrongKind),
            "kind checked"
        );
    }

    #[test]
    fn a_tag_checks_only_for_its_message_purpose_and_key() {
        let tag = keys().tag("cursor", b"page 2");
        assert!(
            keys().check_tag("cursor", b"page 2", &tag),
            "its own message"
        );
        assert!(
            !keys().check_tag("cursor", b"page 3", &tag),
            "another message"
        );
        assert!(
            !keys().check_tag("ticket", b"page 2", &tag),
            "another purpose"
        );
        let other = TokenKeys::new(b"another secret key entirely here", 60, 60);
        assert!(!other.check_tag("cursor", b"page 2", &tag), "another key");
        assert!(
            !keys().check_tag("cursor", b"page 2", "not base64!"),
            "garbage"
        );
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"), "argon2id: {hash}");
        assert!(verify_password("correct horse", &hash), "right password");
        assert!(!verify_password("wrong horse", &hash), "wrong password");
        assert!(!verify_password("x", "not a hash"), "garbage hash");
    }

    #[test]
    fn a_secret_is_made_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("signing.key");
        let first = load_or_create_secret(&path, "k_").expect("made");
        let second = load_or_create_secret(&path, "k_").expect("read back");
        assert_eq!(first, second, "same secret after restart");
        assert!(
            first.starts_with("k_") && first.len() > 40,
            "prefixed and long: {first}"
        );
    }
}
