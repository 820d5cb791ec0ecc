//! The REST half over real HTTPS: accounts, sessions, lobby and join tickets, on SQLite and
//! PostgreSQL, and every kind of bad request answered with the JSON error shape.

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::json;
use server::auth::{TokenKeys, TokenKind};
use server::config::Limits;
use server::store::{TicketClaim, TicketSeat};
use tests::{Db, Options, TestServer, assert_error, postgres_url};

async fn lobby_flow(db: Db) -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        db,
        ..Options::default()
    })
    .await?;
    let (health_status, health) = srv.call(Method::GET, "/healthz", None, None).await?;
    assert_eq!(health_status, StatusCode::OK, "healthz: {health}");
    let (ready_status, _) = srv.call(Method::GET, "/readyz", None, None).await?;
    assert_eq!(ready_status, StatusCode::OK, "readyz with a live database");

    let (alice_id, alice, _) = srv.register_and_login("Alice", "correct horse").await?;
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&alice), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "me: {me}");
    assert_eq!(me["account_id"].as_i64(), Some(alice_id), "me is alice");
    assert_eq!(me["username"], "Alice", "username as registered");
    assert_eq!(me["guest"], false, "not a guest");
    assert!(
        me["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "RFC 3339 created_at: {me}"
    );

    let (status, created) = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&alice),
            Some(json!({"map": "corridors"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "create match: {created}");
    let match_id = created["match_id"].as_str().expect("match_id").to_string();
    assert_eq!(created["map"], "corridors", "asked-for map");
    assert_eq!(created["public"], true, "public by default");

    let (status, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    assert_eq!(status, StatusCode::OK, "list: {list}");
    let listed = list["matches"].as_array().expect("matches array");
    assert!(
        listed.iter().any(|m| m["match_id"] == match_id.as_str()),
        "new match listed: {list}"
    );

    let (status, ticket) = srv
        .call(
            Method::POST,
            &format!("/v1/matches/{match_id}/join"),
            Some(&alice),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "join: {ticket}");
    assert_eq!(
        ticket["match_id"],
        match_id.as_str(),
        "ticket for the match"
    );
    assert!(
        ticket["ticket"].as_str().is_some_and(|t| t.len() > 20),
        "a ticket: {ticket}"
    );
    assert!(
        ticket["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("wss://") && u.ends_with("/v1/realtime")),
        "wss URL: {ticket}"
    );
    assert!(
        ticket["expires_in"]
            .as_u64()
            .is_some_and(|s| s > 0 && s <= 60),
        "short-lived: {ticket}"
    );

    let (status, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    let seat_count = list["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .find(|m| m["match_id"] == match_id.as_str())
        .expect("listed")["players"]
        .as_i64();
    assert_eq!(
        (status, seat_count),
        (StatusCode::OK, Some(1)),
        "alice holds a seat"
    );

    // Alice is seated: quick-join sends her back to the same match.
    let (status, again) = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&alice),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "quick-join: {again}");
    assert_eq!(
        again["match_id"],
        match_id.as_str(),
        "a returning player goes back to her match"
    );
    assert_ne!(again["ticket"], ticket["ticket"], "a new ticket each time");

    // Bob quick-joins: the fullest public match with room is alice's.
    let (_, bob, _) = srv.register_and_login("bob", "hunter2hunter2").await?;
    let (status, bobs) = srv
        .call(Method::POST, "/v1/matchmaking/quick-join", Some(&bob), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "bob quick-join: {bobs}");
    assert_eq!(
        bobs["match_id"],
        match_id.as_str(),
        "fullest public match with room"
    );

    // Quick-join can ask for a map: a new match on it, with that map's seat count.
    let (_, carol_token) = srv.guest("device-bench-0001").await?;
    let (status, on_bench) = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&carol_token),
            Some(json!({"map": "bench"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "quick-join on bench: {on_bench}");
    assert_ne!(
        on_bench["match_id"],
        match_id.as_str(),
        "not the arena match"
    );
    let bench_row = srv
        .server
        .state
        .store
        .match_by_id(on_bench["match_id"].as_str().expect("id"))
        .await?
        .expect("row");
    assert_eq!(
        (bench_row.map.as_str(), bench_row.capacity),
        ("bench", 25),
        "bench map, 25 seats"
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&carol_token),
            Some(json!({"map": "atlantis"})),
        )
        .await?;
    assert_eq!(
        got.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown map refused: {}",
        got.1
    );

    // A private match is not listed and not quick-joined into.
    let (status, private) = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&bob),
            Some(json!({"public": false})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "private match: {private}");
    let (_, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    assert!(
        !list["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .any(|m| m["match_id"] == private["match_id"]),
        "private match not listed: {list}"
    );

    // A guest on a new device gets an account; the same device gets the same account.
    let (guest_id, guest) = srv.guest("device-0001-abcd").await?;
    let (again_id, _) = srv.guest("device-0001-abcd").await?;
    assert_eq!(guest_id, again_id, "same device, same account");
    let (_, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&guest), None)
        .await?;
    assert_eq!(me["guest"], true, "guest account: {me}");
    let (status, up) = srv
        .call(
            Method::PUT,
            "/v1/accounts/me",
            Some(&guest),
            Some(json!({"username": "Carol", "password": "carols password"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "upgrade guest: {up}");
    assert_eq!(
        (up["guest"].as_bool(), up["account_id"].as_i64()),
        (Some(false), Some(guest_id)),
        "same id, now full"
    );
    let (status, _) = srv
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "carol", "password": "carols password"})),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "the upgraded guest logs in with a password"
    );

    // The ticket is single use and bound to its account and match.
    let store = &srv.server.state.store;
    let now = srv.clock.now_ms();
    let t = ticket["ticket"].as_str().expect("ticket");
    assert_eq!(
        store.redeem_ticket(t, now).await?,
        TicketClaim::Valid {
            account_id: alice_id,
            match_id: match_id.clone(),
            seat: TicketSeat::Player,
        },
        "first redemption"
    );
    assert_eq!(
        store.redeem_ticket(t, now).await?,
        TicketClaim::AlreadyUsed,
        "second redemption"
    );
    srv.clock.advance(std::time::Duration::from_secs(31));
    let late = srv.clock.now_ms();
    assert_eq!(
        store
            .redeem_ticket(again["ticket"].as_str().expect("t"), late)
            .await?,
        TicketClaim::Expired,
        "after 31 s"
    );
    assert_eq!(
        store.redeem_ticket("tk_nonsense", late).await?,
        TicketClaim::Unknown,
        "made-up ticket"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn lobby_flow_on_sqlite() -> anyhow::Result<()> {
    lobby_flow(Db::Sqlite).await
}

#[tokio::test]
async fn lobby_flow_on_postgres() -> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    lobby_flow(Db::Postgres).await
}

#[tokio::test]
async fn bad_requests_get_4xx_with_the_error_shape() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (_, alice, _) = srv.register_and_login("alice", "correct horse").await?;

    let got = srv
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "alice", "password": "wrong horse"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong password",
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "nobody", "password": "wrong horse"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "unknown user, same answer",
    );

    for name in ["alice", "ALICE", "Alice"] {
        let got = srv
            .call(
                Method::POST,
                "/v1/accounts",
                None,
                Some(json!({"username": name, "password": "another pw"})),
            )
            .await?;
        assert_error(
            &got,
            StatusCode::CONFLICT,
            "username_taken",
            &format!("duplicate {name}"),
        );
    }
    let got = srv
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(json!({"username": "a b", "password": "another pw"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_username",
        "space in username",
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(json!({"username": "dave", "password": "short"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_password",
        "short password",
    );

    // Tokens: none, garbage, tampered, expired, wrong kind.
    let got = srv.call(Method::GET, "/v1/accounts/me", None, None).await?;
    assert_error(&got, StatusCode::UNAUTHORIZED, "missing_token", "no token");
    let got = srv
        .call(Method::GET, "/v1/accounts/me", Some("garbage"), None)
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "garbage token",
    );
    let mut tampered = alice.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let got = srv
        .call(
            Method::GET,
            "/v1/accounts/me",
            Some(std::str::from_utf8(&tampered)?),
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "tampered token",
    );
    let key = std::fs::read_to_string(srv.data_dir.join("signing.key"))?;
    let keys = TokenKeys::new(key.trim().as_bytes(), 60, 60);
    let expired = keys.issue(1, "player", TokenKind::Access, srv.clock.now_s() - 3600);
    let got = srv
        .call(Method::GET, "/v1/accounts/me", Some(&expired), None)
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "token_expired",
        "expired token",
    );
    let refresh = keys.issue(1, "player", TokenKind::Refresh, srv.clock.now_s());
    let got = srv
        .call(Method::GET, "/v1/accounts/me", Some(&refresh), None)
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "wrong_token_kind",
        "refresh token as access",
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(json!({"refresh_token": alice})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "wrong_token_kind",
        "access token as refresh",
    );

    // Bodies: too large, malformed, wrong types, missing fields, wrong content type.
    let huge = "x".repeat(2 * 1024 * 1024);
    let got = srv
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(json!({"username": huge, "password": "x"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "2 MB body",
    );
    let raw = |body: &'static str, content_type: &'static str| {
        srv.http
            .post(srv.url("/v1/accounts"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let resp = raw("{\"username\": ", "application/json").await?;
    let got = (resp.status(), resp.json().await?);
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "truncated JSON",
    );
    let resp = raw("{\"username\": 5, \"password\": []}", "application/json").await?;
    let got = (resp.status(), resp.json().await?);
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        "wrong types",
    );
    let resp = raw("{\"username\": \"zed\"}", "application/json").await?;
    let got = (resp.status(), resp.json().await?);
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        "missing field",
    );
    let resp = raw("username=zed", "application/x-www-form-urlencoded").await?;
    let got = (resp.status(), resp.json().await?);
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "form body",
    );

    // Routes and methods.
    let got = srv
        .call(Method::GET, "/v1/nothing-here", None, None)
        .await?;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found", "unknown route");
    let got = srv.call(Method::DELETE, "/v1/accounts", None, None).await?;
    assert_error(
        &got,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "wrong method",
    );
    let got = srv
        .call(Method::POST, "/v1/matches/m_nope/join", Some(&alice), None)
        .await?;
    assert_error(
        &got,
        StatusCode::NOT_FOUND,
        "match_not_found",
        "join unknown match",
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&alice),
            Some(json!({"map": "atlantis"})),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_map",
        "unknown map",
    );

    // The server is still fine.
    let (status, _) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&alice), None)
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "alice unaffected by all of the above"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_full_match_refuses_the_next_player() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (_, owner, _) = srv.register_and_login("owner", "correct horse").await?;
    let (_, created) = srv
        .call(Method::POST, "/v1/matches", Some(&owner), None)
        .await?;
    let match_id = created["match_id"].as_str().expect("match_id").to_string();
    let capacity = created["capacity"].as_i64().expect("capacity");
    let path = format!("/v1/matches/{match_id}/join");
    for i in 0..capacity {
        let (_, token) = srv.guest(&format!("device-{i:08}")).await?;
        let (status, body) = srv.call(Method::POST, &path, Some(&token), None).await?;
        assert_eq!(status, StatusCode::OK, "seat {i} of {capacity}: {body}");
    }
    let (_, late) = srv.guest("device-late-0000").await?;
    let got = srv.call(Method::POST, &path, Some(&late), None).await?;
    assert_error(
        &got,
        StatusCode::CONFLICT,
        "match_full",
        "one past capacity",
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn credential_endpoints_are_rate_limited() -> anyhow::Result<()> {
    let limits = Limits {
        auth_attempts_per_username_per_minute: 3,
        ..Limits::default()
    };
    let srv = TestServer::start_with(Options {
        limits,
        ..Options::default()
    })
    .await?;
    let body = json!({"username": "mallory", "password": "guess guess"});
    let start = std::time::Instant::now();
    for i in 0..3 {
        let got = srv
            .call(Method::POST, "/v1/sessions", None, Some(body.clone()))
            .await?;
        assert_error(
            &got,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            &format!("guess {i}"),
        );
    }
    // The bucket (3 a minute) refills one attempt every 20 s: on a busy machine the three
    // password checks may have taken that long, and each refill lets one more guess be judged.
    let refills = (start.elapsed().as_secs() / 20) as usize;
    let mut got = None;
    for _ in 0..=refills {
        let reply = srv
            .call(Method::POST, "/v1/sessions", None, Some(body.clone()))
            .await?;
        if reply.0 != StatusCode::UNAUTHORIZED {
            got = Some(reply);
            break;
        }
    }
    let got = got.context("every guess past the limit was judged")?;
    assert_error(
        &got,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "fourth guess",
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn restart_keeps_accounts_and_issued_tokens() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (id, access, refresh) = srv
        .register_and_login("persistent", "correct horse")
        .await?;
    let srv = srv.restart().await?;
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&access), None)
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "old access token after restart: {me}"
    );
    assert_eq!(me["account_id"].as_i64(), Some(id), "same account");
    let (status, session) = srv
        .call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "old refresh token after restart: {session}"
    );
    let (status, _) = srv
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "persistent", "password": "correct horse"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "password login after restart");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_path_and_query_parameters_get_the_error_shape() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let got = srv
        .call(
            Method::GET,
            "/v1/leaderboards/score/accounts/not-a-number",
            None,
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "non-numeric account id",
    );
    let got = srv
        .call(Method::GET, "/v1/leaderboards/score?limit=abc", None, None)
        .await?;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "non-numeric limit",
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_quick_joins_all_get_seats() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let mut tokens = Vec::new();
    for i in 0..48 {
        tokens.push(srv.guest(&format!("device-rush-{i:04}")).await?.1);
    }
    let joins = tokens.iter().map(|token| {
        srv.call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(token),
            None,
        )
    });
    let answers = futures_util::future::join_all(joins).await;
    let mut seats: std::collections::BTreeMap<String, i64> = Default::default();
    for answer in answers {
        let (status, body) = answer?;
        assert_eq!(
            status,
            StatusCode::OK,
            "every concurrent quick-join succeeds: {body}"
        );
        *seats
            .entry(body["match_id"].as_str().expect("match").to_string())
            .or_default() += 1;
    }
    for (match_id, n) in &seats {
        let row = srv
            .server
            .state
            .store
            .match_by_id(match_id)
            .await?
            .expect("row");
        assert_eq!(
            row.players, *n,
            "seat count of {match_id} matches the tickets"
        );
        assert!(row.players <= row.capacity, "never over capacity");
    }
    srv.stop().await;
    Ok(())
}
