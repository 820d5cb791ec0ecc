//! REST abuse over real HTTPS: password guessing against one username and from one address,
//! forged and tampered tokens (`alg: none`, HS/RS and key confusion, flipped bytes, garbage
//! `Authorization` headers), SQL metacharacters, NUL bytes, invalid UTF-8 and very long strings in
//! every text field, absurd leaderboard limits and forged or expired cursors, and forged admin
//! credentials. Every answer is a 4xx in the JSON error shape (or a correct success), never a
//! 500, and the data is intact afterwards.
//!
//! Requests come from several loopback addresses (127.0.0.x: on Linux all of 127/8 reaches the
//! server), so the per-address limit is exercised for real; and through a trusted proxy that
//! names many clients, as behind a load balancer.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::config::Limits;
use server::store::ResultRow;
use tests::{Db, Options, TestServer, assert_error, postgres_url};

const PASSWORD: &str = "correct horse battery";

/// An answer with the headers the tests look at.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

impl Reply {
    fn pair(&self) -> (StatusCode, Value) {
        (self.status, self.body.clone())
    }
}

/// Sends `req` and reads the answer, which must be JSON whenever it has a body.
async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<Reply> {
    let resp = req.send().await?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .map(|v| v.to_str().unwrap_or("<not text>").to_string());
    let bytes = resp.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "non-JSON body with {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
        })?
    };
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// A client whose connections come from `127.0.0.<octet>`: another client address to the server.
fn client_from(octet: u8) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address(IpAddr::from([127, 0, 0, octet]))
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn login_from(
    srv: &TestServer,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> anyhow::Result<Reply> {
    send(
        client
            .post(srv.url("/v1/sessions"))
            .json(&json!({"username": username, "password": password})),
    )
    .await
}

async fn register_from(
    srv: &TestServer,
    client: &reqwest::Client,
    username: &str,
) -> anyhow::Result<()> {
    let reply = send(
        client
            .post(srv.url("/v1/accounts"))
            .json(&json!({"username": username, "password": PASSWORD})),
    )
    .await?;
    anyhow::ensure!(
        reply.status == StatusCode::CREATED,
        "register {username}: {reply:?}"
    );
    Ok(())
}

/// Asserts a 429 in the error shape with a `Retry-After` of whole seconds, at most `max_s`.
fn assert_rate_limited(reply: &Reply, max_s: u64, what: &str) {
    assert_error(
        &reply.pair(),
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        what,
    );
    let seconds = reply
        .retry_after
        .as_deref()
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        seconds.is_some_and(|s| (1..=max_s).contains(&s)),
        "{what}: Retry-After is whole seconds in 1..={max_s}: {:?}",
        reply.retry_after
    );
}

/// Asserts a client error in the error shape (whatever its status and code).
fn assert_client_error(got: &(StatusCode, Value), what: &str) {
    assert!(
        got.0.is_client_error(),
        "{what}: a 4xx, got {} {}",
        got.0,
        got.1
    );
    assert!(
        got.1["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
            && got.1["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
        "{what}: the error shape in {}",
        got.1
    );
}

// ---- credential stuffing ----

/// Attempts a per-minute bucket may have regained while `elapsed` passed. The bursts below take
/// far less than one refill interval on an idle machine (so the counts are exact there), but
/// argon2 in a debug build can take seconds per hash on a loaded one: the counts allow for it
/// rather than depend on the machine's speed.
fn refills(per_minute: u32, elapsed: Duration) -> usize {
    (elapsed.as_secs_f64() * f64::from(per_minute) / 60.0).floor() as usize
}

/// Sends `requests` at once, so the limiter sees them together, and answers the replies in
/// order.
async fn burst(requests: Vec<reqwest::RequestBuilder>) -> anyhow::Result<Vec<Reply>> {
    futures_util::future::join_all(requests.into_iter().map(send))
        .await
        .into_iter()
        .collect()
}

/// Checks a burst's replies: the ones let through are `passed` (an allowed status and code), the
/// others 429 naming `limit` with a `Retry-After` of at most `max_s`. Answers how many passed.
fn let_through(replies: &[Reply], passed: &[(StatusCode, &str)], limit: &str, max_s: u64) -> usize {
    let mut through = 0;
    for (i, reply) in replies.iter().enumerate() {
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_rate_limited(reply, max_s, &format!("attempt {i}"));
            assert!(
                reply.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(limit)),
                "attempt {i}: the answer names the {limit} limit: {}",
                reply.body
            );
        } else {
            assert!(
                passed.iter().any(|(status, code)| reply.status == *status
                    && (reply.body["error"]["code"] == *code || code.is_empty())),
                "attempt {i}: one of {passed:?}, got {reply:?}"
            );
            assert!(reply.retry_after.is_none(), "no Retry-After on {reply:?}");
            through += 1;
        }
    }
    through
}

#[tokio::test]
async fn password_guessing_against_one_username_is_limited_from_every_address() -> anyhow::Result<()>
{
    // Two attempts a minute per username: one refill every 30 s.
    let per_username = 2;
    let srv = TestServer::start_with(Options {
        limits: Limits {
            auth_attempts_per_username_per_minute: per_username,
            auth_attempts_per_address_per_minute: 1000,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let home = client_from(1)?;
    let start = std::time::Instant::now();
    // The registration is the name's first attempt.
    register_from(&srv, &home, "victim").await?;
    register_from(&srv, &home, "bystander").await?;

    // A botnet: every guess from an address of its own, the name in any case.
    let mut guesses = Vec::new();
    for i in 0..6 {
        let name = if i % 2 == 0 { "victim" } else { "VICTIM" };
        guesses.push(
            client_from(10 + i)?
                .post(srv.url("/v1/sessions"))
                .json(&json!({"username": name, "password": format!("guess {i:04}")})),
        );
    }
    let replies = burst(guesses).await?;
    let through = let_through(
        &replies,
        &[(StatusCode::UNAUTHORIZED, "invalid_credentials")],
        "username",
        30,
    );
    let slack = refills(per_username, start.elapsed());
    assert!(
        (1..=1 + slack).contains(&through),
        "all addresses together get the name's attempts less the registration: {through} \
         through, {slack} refills"
    );

    // The price of a per-username limit: the owner waits too (while no refill came). Everyone
    // else does not, from any address.
    let owner = login_from(&srv, &home, "victim", PASSWORD).await?;
    if refills(per_username, start.elapsed()) == 0 {
        assert_rate_limited(
            &owner,
            30,
            "the owner's own login while the name is limited",
        );
    } else {
        assert!(
            matches!(owner.status, StatusCode::OK | StatusCode::TOO_MANY_REQUESTS),
            "the owner's own login: {owner:?}"
        );
    }
    let other = login_from(&srv, &client_from(10)?, "bystander", PASSWORD).await?;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another account logs in from a guessing address: {other:?}"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn password_guessing_from_one_address_is_limited_across_usernames() -> anyhow::Result<()> {
    // Three a minute: one refill every 20 s.
    let per_address = 3;
    let srv = TestServer::start_with(Options {
        limits: Limits {
            auth_attempts_per_address_per_minute: per_address,
            auth_attempts_per_username_per_minute: 1000,
            guest_logins_per_address_per_minute: per_address,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let home = client_from(1)?;
    register_from(&srv, &home, "bystander").await?;

    // A credential list, each name once, from one address; some requests name another client
    // in a header, which a peer that is no trusted proxy cannot make count.
    let attacker = client_from(66)?;
    let spoofs = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-for", "198.51.100.1, 203.0.113.8"),
        ("x-real-ip", "203.0.113.9"),
        ("forwarded", "for=203.0.113.10"),
    ];
    let mut requests = Vec::new();
    for i in 0..8 {
        let mut req = attacker
            .post(srv.url("/v1/sessions"))
            .json(&json!({"username": format!("user{i:03}"), "password": "hunter2hunter2"}));
        if let Some((header, value)) = spoofs.get(i % 5) {
            req = req.header(*header, *value);
        }
        requests.push(req);
    }
    // Registering counts against the address too.
    requests.push(
        attacker
            .post(srv.url("/v1/accounts"))
            .json(&json!({"username": "fresh_name", "password": PASSWORD})),
    );
    let start = std::time::Instant::now();
    let replies = burst(requests).await?;
    let through = let_through(
        &replies,
        &[
            (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            (StatusCode::CREATED, ""),
        ],
        "address",
        20,
    );
    let slack = refills(per_address, start.elapsed());
    assert!(
        (3..=3 + slack).contains(&through),
        "the address's attempts, whatever the headers say: {through} through, {slack} refills"
    );

    // Another address is not affected, not even for the names the attacker tried.
    let other = login_from(&srv, &home, "bystander", PASSWORD).await?;
    assert_eq!(other.status, StatusCode::OK, "another address: {other:?}");
    let tried = login_from(&srv, &home, "user000", "hunter2hunter2").await?;
    assert_error(
        &tried.pair(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "a name the attacker tried, from another address",
    );

    // Guest logins have their own per-address limit, answered the same way.
    let requests = (0..6)
        .map(|i| {
            attacker
                .post(srv.url("/v1/sessions/guest"))
                .json(&json!({"device_id": format!("device-flood-{i:04}")}))
        })
        .collect();
    let start = std::time::Instant::now();
    let replies = burst(requests).await?;
    let through = let_through(&replies, &[(StatusCode::OK, "")], "guest", 20);
    let slack = refills(per_address, start.elapsed());
    assert!(
        (3..=3 + slack).contains(&through),
        "guest logins per address: {through} through, {slack} refills"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_and_each_username_has_its_own_budget()
-> anyhow::Result<()> {
    // The deployed case: every request arrives through a load balancer that names the client.
    let (per_address, per_username) = (3, 2);
    let srv = TestServer::start_with(Options {
        limits: Limits {
            auth_attempts_per_address_per_minute: per_address,
            auth_attempts_per_username_per_minute: per_username,
            ..Limits::default()
        },
        trusted_proxies: vec!["127.0.0.2/32".parse()?],
        ..Options::default()
    })
    .await?;
    let proxy = client_from(2)?;
    let via = |client: &str, username: &str, password: &str| {
        proxy
            .post(srv.url("/v1/sessions"))
            .header("x-forwarded-for", client)
            .json(&json!({"username": username, "password": password}))
    };
    let start = std::time::Instant::now();
    let reply = send(
        proxy
            .post(srv.url("/v1/accounts"))
            .header("x-forwarded-for", "198.51.100.1")
            .json(&json!({"username": "victim", "password": PASSWORD})),
    )
    .await?;
    assert_eq!(reply.status, StatusCode::CREATED, "register: {reply:?}");

    // Many clients guess one name: the name's limit holds across them.
    let guesses = (0..5)
        .map(|i| via(&format!("203.0.113.{}", 10 + i), "victim", "wrong guess"))
        .collect();
    let replies = burst(guesses).await?;
    let through = let_through(
        &replies,
        &[(StatusCode::UNAUTHORIZED, "invalid_credentials")],
        "username",
        30,
    );
    let slack = refills(per_username, start.elapsed());
    assert!(
        (1..=1 + slack).contains(&through),
        "clients behind the proxy share the name's budget: {through} through, {slack} refills"
    );

    // One client stuffs many names: it is limited, its neighbour behind the proxy is not.
    let start = std::time::Instant::now();
    let stuffing = (0..6)
        .map(|i| via("203.0.113.99", &format!("user{i:03}"), "hunter2hunter2"))
        .collect();
    let replies = burst(stuffing).await?;
    let through = let_through(
        &replies,
        &[(StatusCode::UNAUTHORIZED, "invalid_credentials")],
        "address",
        20,
    );
    let slack = refills(per_address, start.elapsed());
    assert!(
        (3..=3 + slack).contains(&through),
        "one client's budget: {through} through, {slack} refills"
    );
    let neighbour = send(via("203.0.113.100", "user000", "hunter2hunter2")).await?;
    assert_error(
        &neighbour.pair(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "another client behind the same proxy",
    );
    srv.stop().await;
    Ok(())
}

// ---- tokens ----

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT with this header and these claims, signed (over `header.claims`) by `sign`.
fn jwt(header: &Value, claims: &Value, sign: impl FnOnce(&str) -> String) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(&input);
    format!("{input}.{signature}")
}

/// An HMAC signature of `input` with `secret`, as `alg` (HS256 or HS512).
fn hmac(secret: &[u8], alg: Algorithm, input: &str) -> String {
    jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(secret), alg)
        .expect("HMAC signing")
}

/// The server's token secret, read from its data directory.
fn signing_secret(srv: &TestServer) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(srv.data_dir.join("signing.key"))?
        .trim()
        .to_string())
}

/// Whether `token` is a JWT whose header says HS256 and whose signature is the server key's
/// HMAC: checked here independently of the server's own verification.
fn genuine_hs256(secret: &str, token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return false;
    };
    let alg = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h["alg"].as_str().map(str::to_string));
    alg.as_deref() == Some("HS256")
        && hmac(
            secret.as_bytes(),
            Algorithm::HS256,
            &format!("{header}.{payload}"),
        ) == signature
}

/// The claims the server would put in an access token for `sub`.
fn access_claims(srv: &TestServer, sub: i64, role: &str) -> Value {
    let now = srv.clock.now_s();
    json!({"sub": sub.to_string(), "kind": "access", "role": role, "iat": now, "exp": now + 3600})
}

/// Tokens that must not authenticate anyone: forged without the key, signed with the wrong key
/// or algorithm, or the server's own token altered. Each as (what, token).
fn forged_tokens(
    srv: &TestServer,
    real: &str,
    sub: i64,
    role: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let secret = signing_secret(srv)?;
    let claims = access_claims(srv, sub, role);
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let parts: Vec<&str> = real.split('.').collect();
    anyhow::ensure!(parts.len() == 3, "a JWT has three parts: {real}");
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    let mut tokens: Vec<(String, String)> = Vec::new();
    let mut add = |what: &str, token: String| tokens.push((what.to_string(), token));

    // The server's own token, altered.
    let mut sig = URL_SAFE_NO_PAD.decode(signature)?;
    sig[0] ^= 0x01;
    add(
        "one signature bit flipped",
        format!("{header}.{payload}.{}", b64(&sig)),
    );
    add(
        "signature cut short",
        format!("{header}.{payload}.{}", &signature[..signature.len() - 4]),
    );
    add("signature empty", format!("{header}.{payload}."));
    add("signature missing", format!("{header}.{payload}"));
    let mut forged_claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    forged_claims["sub"] = json!(sub.to_string());
    forged_claims["role"] = json!("admin");
    add(
        "claims changed to the subject as an admin, old signature",
        format!(
            "{header}.{}.{signature}",
            b64(forged_claims.to_string().as_bytes())
        ),
    );
    let mut later: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    later["exp"] = json!(srv.clock.now_s() + 365 * 24 * 3600);
    add(
        "expiry extended, old signature",
        format!("{header}.{}.{signature}", b64(later.to_string().as_bytes())),
    );
    let mut payload_bytes = URL_SAFE_NO_PAD.decode(payload)?;
    let mid = payload_bytes.len() / 2;
    payload_bytes[mid] ^= 0x04;
    add(
        "one payload bit flipped",
        format!("{header}.{}.{signature}", b64(&payload_bytes)),
    );
    add(
        "header with a kid, old signature",
        format!(
            "{}.{payload}.{signature}",
            b64(
                json!({"alg": "HS256", "typ": "JWT", "kid": "../../dev/null"})
                    .to_string()
                    .as_bytes()
            )
        ),
    );
    add("parts swapped", format!("{payload}.{header}.{signature}"));
    add("a fourth part", format!("{real}.{signature}"));
    add(
        "whitespace inside",
        format!("{header}. {payload}.{signature}"),
    );

    // `alg: none`, in every spelling, with no signature or the old one.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned = jwt(&json!({"alg": alg, "typ": "JWT"}), &claims, |_| {
            String::new()
        });
        add(&format!("alg {alg}, no signature"), unsigned.clone());
        add(
            &format!("alg {alg}, no signature part"),
            unsigned.trim_end_matches('.').to_string(),
        );
        add(
            &format!("alg {alg}, the old signature"),
            format!("{unsigned}{signature}"),
        );
    }
    add(
        "no alg at all",
        jwt(&json!({"typ": "JWT"}), &claims, |_| String::new()),
    );

    // Algorithm confusion: the header names an asymmetric algorithm while the signature is an
    // HMAC with the real key, or the "public key" (the TLS certificate) is the HMAC secret.
    add(
        "claims RS256, HMAC with the real key",
        jwt(&json!({"alg": "RS256", "typ": "JWT"}), &claims, |input| {
            hmac(secret.as_bytes(), Algorithm::HS256, input)
        }),
    );
    add(
        "claims ES256, HMAC with the real key",
        jwt(&json!({"alg": "ES256", "typ": "JWT"}), &claims, |input| {
            hmac(secret.as_bytes(), Algorithm::HS256, input)
        }),
    );
    add(
        "HS512 with the real key",
        jwt(&json!({"alg": "HS512", "typ": "JWT"}), &claims, |input| {
            hmac(secret.as_bytes(), Algorithm::HS512, input)
        }),
    );
    let certificate = std::fs::read(srv.data_dir.join("dev-cert.pem"))?;
    add(
        "HS256 with the TLS certificate as the secret",
        jwt(&hs256, &claims, |input| {
            hmac(&certificate, Algorithm::HS256, input)
        }),
    );
    let trimmed = String::from_utf8_lossy(&certificate).trim().to_string();
    add(
        "HS256 with the trimmed certificate as the secret",
        jwt(&hs256, &claims, |input| {
            hmac(trimmed.as_bytes(), Algorithm::HS256, input)
        }),
    );
    let tls_key = EncodingKey::from_ec_pem(&std::fs::read(srv.data_dir.join("dev-key.pem"))?)?;
    add(
        "ES256 signed with the server's TLS key",
        jwt(&json!({"alg": "ES256", "typ": "JWT"}), &claims, |input| {
            jsonwebtoken::crypto::sign(input.as_bytes(), &tls_key, Algorithm::ES256)
                .expect("ES256 signing")
        }),
    );
    add(
        "RS256 with a made-up signature",
        jwt(&json!({"alg": "RS256", "typ": "JWT"}), &claims, |_| {
            b64(&[0x5a; 256])
        }),
    );
    add(
        "HS256 with another key",
        jwt(&hs256, &claims, |input| {
            hmac(b"not the server's key, not at all", Algorithm::HS256, input)
        }),
    );
    add(
        "HS256 with an empty key",
        jwt(&hs256, &claims, |input| hmac(b"", Algorithm::HS256, input)),
    );
    add(
        "the admin key's format, made up",
        format!("twadmin_{}", "A".repeat(43)),
    );

    // Signed with the real key, but the claims are not what the server issues.
    let signed = |claims: Value| {
        jwt(&hs256, &claims, |input| {
            hmac(secret.as_bytes(), Algorithm::HS256, input)
        })
    };
    let mut odd = claims.clone();
    odd["sub"] = json!("alice");
    add("a name as the subject", signed(odd));
    let mut odd = claims.clone();
    odd["sub"] = json!(sub);
    add("a number as the subject", signed(odd));
    let mut odd = claims.clone();
    odd["sub"] = json!(format!("{sub}' OR 1=1 --"));
    add("SQL in the subject", signed(odd));
    let mut odd = claims.clone();
    if let Some(fields) = odd.as_object_mut() {
        fields.remove("exp");
    }
    add("no expiry", signed(odd));
    let mut odd = claims.clone();
    odd["exp"] = json!(1e300);
    add("a float expiry", signed(odd));
    let mut odd = claims.clone();
    odd["kind"] = json!("admin");
    add("an unknown kind", signed(odd));
    add("claims not an object", {
        let input = format!("{}.{}", b64(hs256.to_string().as_bytes()), b64(b"[1,2,3]"));
        format!(
            "{input}.{}",
            hmac(secret.as_bytes(), Algorithm::HS256, &input)
        )
    });
    add("not base64", "!!!.???.***".to_string());
    add("empty parts", "..".to_string());
    add("10 KB of letters", "A".repeat(10 * 1024));
    add(
        "10 KB of JWT-looking parts",
        format!("{0}.{0}.{0}", "eyJhbGciOiJIUzI1NiJ9".repeat(170)),
    );
    Ok(tokens)
}

/// `Authorization` values that are not a bearer token at all, as (what, raw header bytes).
fn malformed_headers(real: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        ("an empty header".into(), Vec::new()),
        ("Bearer alone".into(), b"Bearer".to_vec()),
        ("Bearer and spaces".into(), b"Bearer    ".to_vec()),
        (
            "Basic credentials".into(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("alice:pw")
            )
            .into_bytes(),
        ),
        (
            "the token without a scheme".into(),
            real.as_bytes().to_vec(),
        ),
        (
            "another scheme".into(),
            format!("Token {real}").into_bytes(),
        ),
        (
            "two tokens".into(),
            format!("Bearer {real} {real}").into_bytes(),
        ),
        (
            "10 KB after Bearer".into(),
            format!("Bearer {}", "x".repeat(10 * 1024)).into_bytes(),
        ),
        (
            "bytes that are not text".into(),
            [b"Bearer ".as_slice(), &[0xff, 0xfe, 0x80, 0xc0]].concat(),
        ),
    ]
}

#[tokio::test]
async fn forged_tampered_and_malformed_tokens_get_401() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (alice_id, alice, alice_refresh) = srv.register_and_login("alice", PASSWORD).await?;
    let match_id = srv.create_match(&alice, None).await?;
    let (_, guest) = srv.guest("device-forgery-0001").await?;

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/v1/accounts/me".into(), None),
        (
            Method::PUT,
            "/v1/accounts/me".into(),
            Some(json!({"username": "mallory", "password": PASSWORD})),
        ),
        (Method::POST, "/v1/matches".into(), Some(json!({}))),
        (Method::POST, format!("/v1/matches/{match_id}/join"), None),
        (Method::POST, "/v1/matchmaking/quick-join".into(), None),
        (Method::GET, "/v1/leaderboards/score/around/me".into(), None),
    ];
    let secret = signing_secret(&srv)?;
    let forged = forged_tokens(&srv, &alice, alice_id, "player")?;
    // A guest's token altered to claim alice: the guest could try to upgrade into her account.
    let forged_from_guest = forged_tokens(&srv, &guest, alice_id, "player")?;
    for (what, token) in forged.iter().chain(&forged_from_guest) {
        for (method, path, body) in &routes {
            let got = srv
                .call(method.clone(), path, Some(token), body.clone())
                .await?;
            assert_error(
                &got,
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                &format!("{method} {path} with {what}"),
            );
        }
        // As a refresh token: one really signed HS256 with the server's key may be refused for
        // the kind it claims (access), any other only as invalid.
        let got = srv
            .call(
                Method::POST,
                "/v1/sessions/refresh",
                None,
                Some(json!({"refresh_token": token})),
            )
            .await?;
        let code = got.1["error"]["code"].as_str().unwrap_or_default();
        let expected = if code == "wrong_token_kind" && genuine_hs256(&secret, token) {
            code
        } else {
            "invalid_token"
        };
        assert_error(
            &got,
            StatusCode::UNAUTHORIZED,
            expected,
            &format!("refresh with {what}"),
        );
    }
    for (what, header) in malformed_headers(&alice) {
        let value = HeaderValue::from_bytes(&header)?;
        for (method, path, body) in &routes {
            let mut req = srv
                .http
                .request(method.clone(), srv.url(path))
                .header(AUTHORIZATION, value.clone());
            if let Some(body) = body {
                req = req.json(body);
            }
            let reply = send(req).await?;
            assert_error(
                &reply.pair(),
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                &format!("{method} {path} with {what}"),
            );
        }
    }
    // The refresh token where an access token belongs, on every route (the other way round is
    // in rest.rs).
    for (method, path, body) in &routes {
        let got = srv
            .call(method.clone(), path, Some(&alice_refresh), body.clone())
            .await?;
        assert_error(
            &got,
            StatusCode::UNAUTHORIZED,
            "wrong_token_kind",
            &format!("{method} {path} with a refresh token"),
        );
    }

    // Nothing the forgeries asked for happened.
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&alice), None)
        .await?;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("alice")),
        "alice's real token works and her name is hers: {me}"
    );
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&guest), None)
        .await?;
    assert_eq!(
        (status, me["guest"].as_bool()),
        (StatusCode::OK, Some(true)),
        "the guest was not upgraded: {me}"
    );
    let (_, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    let listed: Vec<&str> = list["matches"]
        .as_array()
        .context("matches")?
        .iter()
        .filter_map(|m| m["match_id"].as_str())
        .collect();
    assert_eq!(
        listed,
        [match_id.as_str()],
        "no match made or joined by forgery"
    );
    let row = srv
        .server
        .state
        .store
        .match_by_id(&match_id)
        .await?
        .context("the match")?;
    assert_eq!(row.players, 0, "no seat taken by forgery");

    // A real token expires on the server's clock; its refresh token still works.
    srv.clock.advance(Duration::from_secs(
        u64::from(Limits::default().access_token_ttl_s) + 1,
    ));
    let got = srv
        .call(Method::GET, "/v1/accounts/me", Some(&alice), None)
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "token_expired",
        "alice's token an hour later",
    );
    let (status, session) = srv
        .call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(json!({"refresh_token": alice_refresh})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "refresh after expiry: {session}");
    let fresh = session["access_token"].as_str().context("access_token")?;
    let (status, _) = srv
        .call(Method::GET, "/v1/accounts/me", Some(fresh), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "the refreshed token works");
    srv.stop().await;
    Ok(())
}

// ---- admin routes ----

#[tokio::test]
async fn forged_admin_credentials_change_nothing() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        limits: Limits {
            leaderboard_snapshot_lag_ms: 0,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let key = srv.server.state.admin_key.clone();
    let (player, player_token, _) = srv.register_and_login("plain_player", PASSWORD).await?;
    let (chief, _, _) = srv.register_and_login("chief_admin", PASSWORD).await?;
    let (status, body) = srv
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{chief}/role"),
            Some(&key),
            Some(json!({"role": "admin"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "promote chief: {body}");
    let match_id = srv.create_match(&player_token, None).await?;
    record(&srv, "m_seed", &[(player, 40), (chief, 30)]).await?;
    let board_before = srv
        .call(Method::GET, "/v1/leaderboards/score", None, None)
        .await?;

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/v1/admin/matches".into(), None),
        (Method::GET, "/v1/admin/stats".into(), None),
        (Method::GET, "/v1/admin/audit".into(), None),
        (
            Method::POST,
            format!("/v1/admin/matches/{match_id}/kick"),
            Some(json!({"account_id": player, "reason": "forged"})),
        ),
        (
            Method::POST,
            format!("/v1/admin/accounts/{player}/ban"),
            Some(json!({"reason": "forged"})),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/accounts/{player}/ban"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/admin/accounts/{player}/role"),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/matches/{match_id}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/admin/leaderboards/score/records/{player}"),
            None,
        ),
    ];
    // Tokens claiming the real admin account, and the player's token turned into an admin's.
    let mut forged = forged_tokens(&srv, &player_token, chief, "admin")?;
    let near_keys = [
        ("the admin key cut short", key[..key.len() - 1].to_string()),
        ("the admin key and one more", format!("{key}A")),
        ("the admin key in upper case", key.to_uppercase()),
        ("the admin key's prefix alone", "twadmin_".to_string()),
        ("the signing key", signing_secret(&srv)?),
        ("the admin key with SQL", format!("{key}' OR 1=1 --")),
    ];
    for (what, token) in near_keys {
        forged.push((what.to_string(), token));
    }
    for (method, path, body) in &routes {
        let got = srv.call(method.clone(), path, None, body.clone()).await?;
        assert_error(
            &got,
            StatusCode::UNAUTHORIZED,
            "missing_token",
            &format!("{method} {path} without a token"),
        );
        for (what, token) in &forged {
            let got = srv
                .call(method.clone(), path, Some(token), body.clone())
                .await?;
            assert_error(
                &got,
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                &format!("{method} {path} with {what}"),
            );
        }
        for (what, header) in malformed_headers(&key) {
            let mut req = srv
                .http
                .request(method.clone(), srv.url(path))
                .header(AUTHORIZATION, HeaderValue::from_bytes(&header)?);
            if let Some(body) = body {
                req = req.json(body);
            }
            let reply = send(req).await?;
            assert_error(
                &reply.pair(),
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                &format!("{method} {path} with {what}"),
            );
        }
        let got = srv
            .call(method.clone(), path, Some(&player_token), body.clone())
            .await?;
        assert_error(
            &got,
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("{method} {path} with a player's token"),
        );
    }

    // Nothing changed: no audit row besides the promotion, the player plays on as a player, the
    // match and the record are there.
    let (status, audit) = srv
        .call(Method::GET, "/v1/admin/audit", Some(&key), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "audit: {audit}");
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .context("entries")?
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["set_role"], "only the real promotion was logged");
    let (status, session) = srv
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "plain_player", "password": PASSWORD})),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "the player is not banned: {session}"
    );
    let (_, me) = srv
        .call(
            Method::GET,
            "/v1/accounts/me",
            session["access_token"].as_str(),
            None,
        )
        .await?;
    assert_eq!(me["role"], "player", "and not an admin: {me}");
    assert!(
        srv.server
            .state
            .store
            .match_by_id(&match_id)
            .await?
            .is_some_and(|m| m.state != "ended"),
        "the match was not ended"
    );
    let board_after = srv
        .call(Method::GET, "/v1/leaderboards/score", None, None)
        .await?;
    assert_eq!(board_after, board_before, "the leaderboard is untouched");
    srv.stop().await;
    Ok(())
}

// ---- SQL metacharacters, NUL bytes, invalid UTF-8 and long strings ----

/// Text an attacker puts in every field: SQL, quoting, NUL and other control characters,
/// Unicode tricks and 10 KB strings (under the 64 KB body limit).
fn nasty_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "' OR 1=1 --",
        "' OR '1'='1",
        "\"; DROP TABLE accounts; --",
        "alice'--",
        "admin'/*",
        "1; DELETE FROM leaderboard_records",
        "') UNION SELECT username, password_hash FROM accounts --",
        "';DROP/**/TABLE/**/accounts;--",
        "\\' \\\" \\\\ %_ %% $1 ?",
        "nul\0inside",
        "\0",
        "line\nbreak\r\n\ttab",
        "ünïcödé ✓ 🎮",
        "\u{202e}desrever\u{200b}",
        "   ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    strings.push("x".repeat(10 * 1024));
    strings.push("' OR 1=1 --".repeat(1000));
    // 4 K NULs: JSON writes each as `\u0000`, so two such fields still fit the body limit.
    strings.push("\0".repeat(4 * 1024));
    strings
}

/// Percent-encodes every byte but the unreserved ones, for paths and query strings.
fn enc(s: &str) -> String {
    enc_bytes(s.as_bytes())
}

fn enc_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Stores one match's results as a match end would, on every board.
async fn record(srv: &TestServer, match_id: &str, lines: &[(i64, i64)]) -> anyhow::Result<()> {
    let rows: Vec<ResultRow> = lines
        .iter()
        .enumerate()
        .map(|(i, (account_id, score))| ResultRow {
            account_id: *account_id,
            player_id: i as u32 + 1,
            username: format!("player{account_id}"),
            score: *score,
            stats: vec![("kills".into(), 1), ("deaths".into(), 1)],
        })
        .collect();
    let boards = srv.server.state.leaderboards.boards().to_vec();
    srv.server
        .state
        .store
        .finish_match(match_id, "arena", &rows, &boards, srv.clock.now_ms())
        .await?;
    srv.clock.advance(Duration::from_millis(20));
    Ok(())
}

fn valid_password(s: &str) -> bool {
    (8..=128).contains(&s.chars().count())
}

fn valid_device(s: &str) -> bool {
    (8..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

fn valid_reason(s: &str) -> bool {
    let s = s.trim();
    (1..=200).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

async fn hostile_text(db: Db) -> anyhow::Result<()> {
    if db == Db::Postgres && postgres_url().is_none() {
        return Ok(());
    }
    let srv = TestServer::start_with(Options {
        db,
        limits: Limits {
            auth_attempts_per_address_per_minute: 100_000,
            auth_attempts_per_username_per_minute: 100_000,
            leaderboard_snapshot_lag_ms: 0,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let key = srv.server.state.admin_key.clone();
    let (alice_id, alice, _) = srv.register_and_login("alice", PASSWORD).await?;
    let (bob_id, _, _) = srv.register_and_login("bob", PASSWORD).await?;
    let (_, guest) = srv.guest("device-hostile-0001").await?;
    let match_id = srv.create_match(&alice, None).await?;
    record(&srv, "m_seed", &[(alice_id, 50), (bob_id, 20)]).await?;
    let board_before = srv
        .call(Method::GET, "/v1/leaderboards/score", None, None)
        .await?;
    assert_eq!(
        board_before.0,
        StatusCode::OK,
        "the board: {}",
        board_before.1
    );

    let mut bans = 0;
    for (i, s) in nasty_strings().iter().enumerate() {
        let short: String = s.chars().take(24).collect();
        let what = |field: &str| format!("{field} = {short:?} ({} bytes)", s.len());
        let call = |method: Method, path: String, token: Option<String>, body: Option<Value>| {
            let srv = &srv;
            async move {
                srv.call(method, &path, token.as_deref(), body)
                    .await
                    .with_context(|| path.clone())
            }
        };
        let me = Some(alice.clone());
        let admin = Some(key.clone());

        // Accounts and sessions.
        let got = call(
            Method::POST,
            "/v1/accounts".into(),
            None,
            Some(json!({"username": s, "password": PASSWORD})),
        )
        .await?;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_username",
            &what("register username"),
        );
        let username = format!("pw_{i:03}");
        let got = call(
            Method::POST,
            "/v1/accounts".into(),
            None,
            Some(json!({"username": username, "password": s})),
        )
        .await?;
        if valid_password(s) {
            assert_eq!(
                got.0,
                StatusCode::CREATED,
                "{}: {}",
                what("password"),
                got.1
            );
            let (status, session) = call(
                Method::POST,
                "/v1/sessions".into(),
                None,
                Some(json!({"username": username, "password": s})),
            )
            .await?;
            assert_eq!(
                (status, session["account_id"].as_i64()),
                (StatusCode::OK, got.1["account_id"].as_i64()),
                "{}: the exact password logs in: {session}",
                what("password")
            );
        } else {
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_password",
                &what("password"),
            );
        }
        // (Each login costs an argon2 verification, slow in a debug build: two per string.)
        for body in [
            json!({"username": s, "password": s}),
            json!({"username": "alice", "password": s}),
        ] {
            let got = call(Method::POST, "/v1/sessions".into(), None, Some(body)).await?;
            assert_error(
                &got,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                &what("login"),
            );
        }
        let got = call(
            Method::POST,
            "/v1/sessions/guest".into(),
            None,
            Some(json!({"device_id": s})),
        )
        .await?;
        if valid_device(s) {
            assert_eq!(got.0, StatusCode::OK, "{}: {}", what("device_id"), got.1);
            let again = call(
                Method::POST,
                "/v1/sessions/guest".into(),
                None,
                Some(json!({"device_id": s})),
            )
            .await?;
            assert_eq!(
                again.1["account_id"],
                got.1["account_id"],
                "{}: the same device, the same guest",
                what("device_id")
            );
        } else {
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_device_id",
                &what("device_id"),
            );
        }
        let got = call(
            Method::POST,
            "/v1/sessions/refresh".into(),
            None,
            Some(json!({"refresh_token": s})),
        )
        .await?;
        assert_error(
            &got,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            &what("refresh_token"),
        );
        let got = call(
            Method::PUT,
            "/v1/accounts/me".into(),
            Some(guest.clone()),
            Some(json!({"username": s, "password": PASSWORD})),
        )
        .await?;
        assert_error(
            &got,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_username",
            &what("upgrade username"),
        );

        // The lobby.
        for path in ["/v1/matches", "/v1/matchmaking/quick-join"] {
            let got = call(
                Method::POST,
                path.into(),
                me.clone(),
                Some(json!({"game": s})),
            )
            .await?;
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_game",
                &what(&format!("{path} game")),
            );
            let got = call(
                Method::POST,
                path.into(),
                me.clone(),
                Some(json!({"map": s})),
            )
            .await?;
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_map",
                &what(&format!("{path} map")),
            );
        }
        let e = enc(s);
        let got = call(
            Method::POST,
            format!("/v1/matches/{e}/join"),
            me.clone(),
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "match_not_found",
            &what("match id"),
        );
        let got = call(Method::GET, format!("/v1/games/{e}/maps/arena"), None, None).await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "unknown_game",
            &what("game path"),
        );
        let got = call(Method::GET, format!("/v1/games/arena/maps/{e}"), None, None).await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "unknown_map",
            &what("map path"),
        );

        // Leaderboards.
        let got = call(Method::GET, format!("/v1/leaderboards/{e}"), None, None).await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "leaderboard_not_found",
            &what("board id"),
        );
        let got = call(
            Method::GET,
            format!("/v1/leaderboards/score?season={e}"),
            None,
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_season",
            &what("season"),
        );
        let got = call(
            Method::GET,
            format!("/v1/leaderboards/score?cursor={e}"),
            None,
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            &what("cursor"),
        );
        let got = call(
            Method::GET,
            format!("/v1/leaderboards/score/records?account_ids={e}"),
            None,
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_account",
            &what("account_ids"),
        );
        let got = call(
            Method::GET,
            format!("/v1/leaderboards/score/around/{e}"),
            None,
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_account",
            &what("around account"),
        );
        let got = call(
            Method::GET,
            format!("/v1/leaderboards/score/accounts/{e}"),
            None,
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "bad_request",
            &what("account id"),
        );

        // Admin routes, with the admin key: the text reaches the handlers.
        let got = call(
            Method::POST,
            format!("/v1/admin/matches/{match_id}/kick"),
            admin.clone(),
            Some(json!({"account_id": alice_id, "reason": s})),
        )
        .await?;
        if valid_reason(s) {
            // A match nobody connected to is not live: the reason passed, the match did not.
            assert_error(
                &got,
                StatusCode::NOT_FOUND,
                "match_not_found",
                &what("kick reason"),
            );
        } else {
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reason",
                &what("kick reason"),
            );
        }
        let got = call(
            Method::DELETE,
            format!("/v1/admin/matches/{match_id}"),
            admin.clone(),
            Some(json!({"reason": s})),
        )
        .await?;
        let (status, code) = if valid_reason(s) {
            (StatusCode::NOT_FOUND, "match_not_found")
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason")
        };
        assert_error(&got, status, code, &what("end reason"));
        let got = call(
            Method::POST,
            format!("/v1/admin/accounts/{bob_id}/ban"),
            admin.clone(),
            Some(json!({"reason": s})),
        )
        .await?;
        if valid_reason(s) {
            assert_eq!(got.0, StatusCode::OK, "{}: {}", what("ban reason"), got.1);
            assert_eq!(
                got.1["reason"].as_str(),
                Some(s.trim()),
                "{}: the reason stored as given",
                what("ban reason")
            );
            bans += 1;
            let got = call(
                Method::POST,
                "/v1/sessions".into(),
                None,
                Some(json!({"username": "bob", "password": PASSWORD})),
            )
            .await?;
            assert_error(&got, StatusCode::FORBIDDEN, "banned", &what("banned bob"));
            assert!(
                got.1["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with(s.trim())),
                "{}: the ban message quotes the reason: {}",
                what("ban reason"),
                got.1
            );
            let got = call(
                Method::DELETE,
                format!("/v1/admin/accounts/{bob_id}/ban"),
                admin.clone(),
                None,
            )
            .await?;
            assert_eq!(got.0, StatusCode::OK, "unban: {}", got.1);
        } else {
            assert_error(
                &got,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reason",
                &what("ban reason"),
            );
        }
        for (method, path, body) in [
            (
                Method::POST,
                format!("/v1/admin/accounts/{e}/ban"),
                Some(json!({"reason": "x"})),
            ),
            (Method::DELETE, format!("/v1/admin/accounts/{e}/ban"), None),
            (
                Method::PUT,
                format!("/v1/admin/accounts/{e}/role"),
                Some(json!({"role": "admin"})),
            ),
        ] {
            let got = call(method, path, admin.clone(), body).await?;
            assert_error(
                &got,
                StatusCode::NOT_FOUND,
                "account_not_found",
                &what("admin account id"),
            );
        }
        let got = call(
            Method::POST,
            format!("/v1/admin/matches/{e}/kick"),
            admin.clone(),
            Some(json!({"account_id": alice_id, "reason": "x"})),
        )
        .await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "match_not_found",
            &what("admin match id"),
        );
        let got = call(
            Method::DELETE,
            format!("/v1/admin/leaderboards/{e}/records/{alice_id}"),
            admin.clone(),
            None,
        )
        .await?;
        assert_error(
            &got,
            StatusCode::NOT_FOUND,
            "leaderboard_not_found",
            &what("admin board id"),
        );
        for (query, code) in [("cursor", "invalid_cursor"), ("limit", "invalid_query")] {
            let got = call(
                Method::GET,
                format!("/v1/admin/audit?{query}={e}"),
                admin.clone(),
                None,
            )
            .await?;
            assert_error(
                &got,
                StatusCode::BAD_REQUEST,
                code,
                &what(&format!("audit {query}")),
            );
        }
    }
    assert!(
        bans > 5,
        "most of the strings were fair ban reasons: {bans}"
    );

    // Percent-encoded bytes that are not UTF-8, in every path parameter.
    for bytes in [
        &[0xff][..],
        &[0xc0, 0xaf],
        &[0xed, 0xa0, 0x80],
        &[0xf4, 0x90, 0x80, 0x80],
        &[b'a', 0x80, b'z'],
    ] {
        let e = enc_bytes(bytes);
        let (player, admin) = (Some(alice.as_str()), Some(key.as_str()));
        for (method, path, token, body) in [
            (Method::POST, format!("/v1/matches/{e}/join"), player, None),
            (Method::GET, format!("/v1/games/{e}/maps/{e}"), None, None),
            (Method::GET, format!("/v1/leaderboards/{e}"), None, None),
            (
                Method::GET,
                format!("/v1/leaderboards/score/around/{e}"),
                None,
                None,
            ),
            (
                Method::GET,
                format!("/v1/leaderboards/score/accounts/{e}"),
                None,
                None,
            ),
            (
                Method::GET,
                format!("/v1/leaderboards/score?season={e}"),
                None,
                None,
            ),
            (
                Method::GET,
                format!("/v1/leaderboards/score?cursor={e}"),
                None,
                None,
            ),
            (
                Method::POST,
                format!("/v1/admin/matches/{e}/kick"),
                admin,
                Some(json!({"account_id": alice_id, "reason": "x"})),
            ),
            (
                Method::POST,
                format!("/v1/admin/accounts/{e}/ban"),
                admin,
                Some(json!({"reason": "x"})),
            ),
            (
                Method::DELETE,
                format!("/v1/admin/leaderboards/{e}/records/1"),
                admin,
                None,
            ),
        ] {
            let got = srv.call(method.clone(), &path, token, body).await?;
            assert!(
                matches!(got.0, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
                "{method} {path}: 400 or 404, got {} {}",
                got.0,
                got.1
            );
            assert_client_error(&got, &format!("{method} {path}"));
        }
    }

    // 1 MB in any field of any body is over the body limit.
    let mega = "'; DROP TABLE accounts; --".repeat(1 << 15);
    let bodies: Vec<(Method, String, Option<String>, Value)> = vec![
        (
            Method::POST,
            "/v1/accounts".into(),
            None,
            json!({"username": "zed", "password": mega}),
        ),
        (
            Method::POST,
            "/v1/sessions".into(),
            None,
            json!({"username": mega, "password": "x"}),
        ),
        (
            Method::POST,
            "/v1/sessions/guest".into(),
            None,
            json!({"device_id": mega}),
        ),
        (
            Method::POST,
            "/v1/sessions/refresh".into(),
            None,
            json!({"refresh_token": mega}),
        ),
        (
            Method::PUT,
            "/v1/accounts/me".into(),
            Some(guest.clone()),
            json!({"username": "zed", "password": mega}),
        ),
        (
            Method::POST,
            "/v1/matches".into(),
            Some(alice.clone()),
            json!({"map": mega}),
        ),
        (
            Method::POST,
            "/v1/matchmaking/quick-join".into(),
            Some(alice.clone()),
            json!({"game": mega}),
        ),
        (
            Method::POST,
            format!("/v1/admin/matches/{match_id}/kick"),
            Some(key.clone()),
            json!({"account_id": alice_id, "reason": mega}),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/matches/{match_id}"),
            Some(key.clone()),
            json!({"reason": mega}),
        ),
        (
            Method::POST,
            format!("/v1/admin/accounts/{bob_id}/ban"),
            Some(key.clone()),
            json!({"reason": mega}),
        ),
        (
            Method::PUT,
            format!("/v1/admin/accounts/{bob_id}/role"),
            Some(key.clone()),
            json!({"role": mega}),
        ),
    ];
    for (method, path, token, body) in bodies {
        let got = srv
            .call(method.clone(), &path, token.as_deref(), Some(body))
            .await?;
        assert_error(
            &got,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("{method} {path} with 1 MB"),
        );
    }

    // The data is intact: everyone logs in, nothing was dropped, renamed or ranked anew.
    for name in ["alice", "bob"] {
        let (status, session) = srv
            .call(
                Method::POST,
                "/v1/sessions",
                None,
                Some(json!({"username": name, "password": PASSWORD})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{name} logs in: {session}");
    }
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&guest), None)
        .await?;
    assert_eq!(
        (status, me["guest"].as_bool()),
        (StatusCode::OK, Some(true)),
        "the guest is still a guest: {me}"
    );
    let board_after = srv
        .call(Method::GET, "/v1/leaderboards/score", None, None)
        .await?;
    assert_eq!(board_after, board_before, "the leaderboard is unchanged");
    let (_, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    let listed: Vec<&str> = list["matches"]
        .as_array()
        .context("matches")?
        .iter()
        .filter_map(|m| m["match_id"].as_str())
        .collect();
    assert_eq!(
        listed,
        [match_id.as_str()],
        "the one real match, still open"
    );
    let (status, audit) = srv
        .call(Method::GET, "/v1/admin/audit?limit=100", Some(&key), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "audit: {audit}");
    assert_eq!(
        audit["entries"].as_array().map(Vec::len),
        Some(2 * bans),
        "exactly the bans and unbans that were allowed"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn hostile_text_in_every_field_on_sqlite() -> anyhow::Result<()> {
    hostile_text(Db::Sqlite).await
}

#[tokio::test]
async fn hostile_text_in_every_field_on_postgres() -> anyhow::Result<()> {
    hostile_text(Db::Postgres).await
}

// ---- leaderboards ----

/// One character of `s` replaced by another base64url character (and `.` by `_`).
fn with_char_changed(s: &str, i: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    chars[i] = match chars[i] {
        'A' => 'B',
        '.' => '_',
        _ => 'A',
    };
    chars.into_iter().collect()
}

async fn cursor_of(srv: &TestServer, path: &str) -> anyhow::Result<String> {
    let (status, page) = srv.call(Method::GET, path, None, None).await?;
    anyhow::ensure!(status == StatusCode::OK, "{path}: {status} {page}");
    Ok(page["next_cursor"]
        .as_str()
        .with_context(|| format!("{path} has a next page: {page}"))?
        .to_string())
}

#[tokio::test]
async fn absurd_limits_and_forged_or_expired_cursors_get_4xx() -> anyhow::Result<()> {
    let ttl_s = 60;
    let srv = TestServer::start_with(Options {
        limits: Limits {
            leaderboard_cursor_ttl_s: ttl_s,
            leaderboard_snapshot_lag_ms: 0,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let lines: Vec<(i64, i64)> = (1..=6).map(|id| (id, 10 * id)).collect();
    record(&srv, "m_seed", &lines).await?;

    // Limits: out of range, or not a number an i64 holds.
    for (limit, code) in [
        ("0", "invalid_limit"),
        ("-1", "invalid_limit"),
        ("1000000000000", "invalid_limit"),
        ("9223372036854775807", "invalid_limit"),
        ("-9223372036854775808", "invalid_limit"),
        ("100000000000000000000000000000", "bad_request"),
        ("1e3", "bad_request"),
        ("2.5", "bad_request"),
        ("", "bad_request"),
        ("0x10", "bad_request"),
        ("%00", "bad_request"),
    ] {
        for path in [
            format!("/v1/leaderboards/score?limit={limit}"),
            format!("/v1/leaderboards/score/around/1?limit={limit}"),
        ] {
            let got = srv.call(Method::GET, &path, None, None).await?;
            assert_error(&got, StatusCode::BAD_REQUEST, code, &path);
        }
    }
    let (status, page) = srv
        .call(Method::GET, "/v1/leaderboards/score?limit=100", None, None)
        .await?;
    assert_eq!(
        (status, page["records"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(6)),
        "the largest limit: {page}"
    );

    // Cursors: made up, altered, from another board, or stale.
    let real = cursor_of(&srv, "/v1/leaderboards/score?limit=2").await?;
    let (status, second) = srv
        .call(
            Method::GET,
            &format!("/v1/leaderboards/score?limit=2&cursor={real}"),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "the real cursor: {second}");
    let ranks: Vec<u64> = second["records"]
        .as_array()
        .context("records")?
        .iter()
        .filter_map(|r| r["rank"].as_u64())
        .collect();
    assert_eq!(ranks, [3, 4], "the real cursor continues at rank 3");

    let now = srv.clock.now_ms();
    let mut forged = vec![
        (
            "random base64".to_string(),
            b64(&rand::random::<[u8; 48]>()),
        ),
        (
            "a made-up position with a huge rank".to_string(),
            b64(json!({"board": "score", "season": 0, "as_of": now,
                    "key": [i64::MIN, 0, 0], "rank": u64::MAX})
            .to_string()
            .as_bytes()),
        ),
        (
            "a made-up position from the future".to_string(),
            b64(
                json!({"season": 0, "as_of": i64::MAX, "key": [i64::MIN, 0, 0], "rank": 0})
                    .to_string()
                    .as_bytes(),
            ),
        ),
        (
            "a made-up position with a random tag".to_string(),
            format!(
                "{}.{}",
                b64(
                    json!({"season": 0, "as_of": now, "key": [0, 0, 0], "rank": 2})
                        .to_string()
                        .as_bytes()
                ),
                b64(&rand::random::<[u8; 32]>())
            ),
        ),
        ("the cursor twice".to_string(), format!("{real}{real}")),
        ("10 KB".to_string(), "A".repeat(10 * 1024)),
    ];
    for i in 0..real.chars().count() {
        forged.push((
            format!("the real cursor with character {i} changed"),
            with_char_changed(&real, i),
        ));
    }
    let weekly = cursor_of(&srv, "/v1/leaderboards/score_weekly?limit=2").await?;
    forged.push(("a cursor of another board".to_string(), weekly.clone()));
    for (what, cursor) in &forged {
        let path = format!("/v1/leaderboards/score?limit=2&cursor={}", enc(cursor));
        let got = srv.call(Method::GET, &path, None, None).await?;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_cursor", what);
    }
    let path = format!("/v1/leaderboards/kills?cursor={real}");
    assert_error(
        &srv.call(Method::GET, &path, None, None).await?,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
        "a cursor of the score board on the kills board",
    );

    // The configured cursor lifetime holds, on the server's clock.
    srv.clock.advance(Duration::from_secs(u64::from(ttl_s) / 2));
    let path = format!("/v1/leaderboards/score?limit=2&cursor={real}");
    let (status, body) = srv.call(Method::GET, &path, None, None).await?;
    assert_eq!(status, StatusCode::OK, "half way through its life: {body}");
    srv.clock
        .advance(Duration::from_secs(u64::from(ttl_s) / 2 + 1));
    assert_error(
        &srv.call(Method::GET, &path, None, None).await?,
        StatusCode::GONE,
        "cursor_expired",
        "a cursor past its configured lifetime",
    );
    let path = format!("/v1/leaderboards/score_weekly?limit=2&cursor={weekly}");
    assert_error(
        &srv.call(Method::GET, &path, None, None).await?,
        StatusCode::GONE,
        "cursor_expired",
        "the weekly cursor too",
    );

    // Unknown boards on every read, and seasons that are not seasons of the board.
    for path in [
        "/v1/leaderboards/nope/around/1",
        "/v1/leaderboards/nope/accounts/1",
        "/v1/leaderboards/nope/records?account_ids=1",
        "/v1/leaderboards/SCORE",
        "/v1/leaderboards/score%20",
    ] {
        assert_error(
            &srv.call(Method::GET, path, None, None).await?,
            StatusCode::NOT_FOUND,
            "leaderboard_not_found",
            path,
        );
    }
    for (board, season) in [
        ("score", "2026-11-23"),
        ("score", "ALL"),
        ("score", ""),
        ("score_weekly", "all"),
        ("score_weekly", "2026-02-30"),
        ("score_weekly", "1969-12-29"),
        ("score_weekly", "10000-01-03"),
        ("score_weekly", "-001-01-01"),
        ("score_weekly", "2026-11-23T00:00:00Z"),
        ("score_weekly", "1"),
    ] {
        for path in [
            format!("/v1/leaderboards/{board}?season={}", enc(season)),
            format!("/v1/leaderboards/{board}/around/1?season={}", enc(season)),
            format!("/v1/leaderboards/{board}/accounts/1?season={}", enc(season)),
            format!(
                "/v1/leaderboards/{board}/records?account_ids=1&season={}",
                enc(season)
            ),
        ] {
            assert_error(
                &srv.call(Method::GET, &path, None, None).await?,
                StatusCode::BAD_REQUEST,
                "invalid_season",
                &path,
            );
        }
    }
    // A season that could exist but has no records: an empty page, no error.
    let (status, old) = srv
        .call(
            Method::GET,
            "/v1/leaderboards/score_weekly?season=2001-01-01",
            None,
            None,
        )
        .await?;
    assert_eq!(
        (
            status,
            old["records"].as_array().map(Vec::len),
            old["season"].as_str()
        ),
        (StatusCode::OK, Some(0), Some("2001-01-01")),
        "an old, empty season: {old}"
    );
    assert_error(
        &srv.call(
            Method::GET,
            "/v1/leaderboards/score_weekly/accounts/1?season=2001-01-01",
            None,
            None,
        )
        .await?,
        StatusCode::NOT_FOUND,
        "record_not_found",
        "no record in an old season",
    );
    // Account lists: empty, too long, or not numbers.
    let many = (1..=101)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    for ids in [
        "",
        ",,,",
        many.as_str(),
        "1,two",
        "99999999999999999999",
        "1;2",
    ] {
        let path = format!("/v1/leaderboards/score/records?account_ids={}", enc(ids));
        assert_error(
            &srv.call(Method::GET, &path, None, None).await?,
            StatusCode::BAD_REQUEST,
            "invalid_account",
            &path,
        );
    }
    let (status, board) = srv
        .call(Method::GET, "/v1/leaderboards/score?limit=100", None, None)
        .await?;
    assert_eq!(
        (status, board["records"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(6)),
        "the board is intact: {board}"
    );
    srv.stop().await;
    Ok(())
}
