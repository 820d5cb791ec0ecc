//! The admin API against a real server: every route refuses a missing credential and a player's
//! token and accepts the admin key and an admin account's token; ban, kick and end-match take
//! effect on live WebSocket connections; the audit log pages newest first; unknown ids get 404
//! and bad bodies a 4xx in the error shape. The flows that touch the database run on SQLite and
//! on PostgreSQL.

use std::time::Duration;

use bot_client::session::{JoinError, Session};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::auth::TokenKind;
use shared::{Tick, close};
use tests::player::Client;
use tests::{Db, Options, TestServer, assert_error, postgres_url};

const PASSWORD: &str = "correct horse battery";

/// A test server on `db`, or `None` when PostgreSQL is asked for and not configured (which
/// `postgres_url` turns into a failure under `CI=true`).
async fn start(db: Db) -> anyhow::Result<Option<TestServer>> {
    if db == Db::Postgres && postgres_url().is_none() {
        return Ok(None);
    }
    Ok(Some(
        TestServer::start_with(Options {
            db,
            ..Options::default()
        })
        .await?,
    ))
}

fn admin_key(srv: &TestServer) -> String {
    srv.server.state.admin_key.clone()
}

/// Registers `username`, makes it an admin with the admin key and logs in again, so the token
/// carries the admin role. Answers (account id, access token, refresh token).
async fn admin_account(srv: &TestServer, username: &str) -> anyhow::Result<(i64, String, String)> {
    let (id, _, _) = srv.register_and_login(username, PASSWORD).await?;
    let key = admin_key(srv);
    let (status, body) = srv
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{id}/role"),
            Some(&key),
            Some(json!({"role": "admin"})),
        )
        .await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "make {username} admin: {status} {body}"
    );
    let session = login(srv, username).await?;
    anyhow::ensure!(session.0 == StatusCode::OK, "admin login: {:?}", session);
    Ok((
        id,
        text(&session.1["access_token"]),
        text(&session.1["refresh_token"]),
    ))
}

async fn login(srv: &TestServer, username: &str) -> anyhow::Result<(StatusCode, Value)> {
    srv.call(
        Method::POST,
        "/v1/sessions",
        None,
        Some(json!({"username": username, "password": PASSWORD})),
    )
    .await
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The audit log, newest first, as (action, actor, target, detail).
async fn audit_entries(srv: &TestServer) -> anyhow::Result<Vec<Value>> {
    let key = admin_key(srv);
    let (status, page) = srv
        .call(Method::GET, "/v1/admin/audit?limit=100", Some(&key), None)
        .await?;
    anyhow::ensure!(status == StatusCode::OK, "audit: {status} {page}");
    Ok(page["entries"].as_array().cloned().unwrap_or_default())
}

/// The players of `match_id` in `GET /v1/admin/matches`, as (account id, connected).
async fn live_players(srv: &TestServer, match_id: &str) -> anyhow::Result<Vec<(i64, bool)>> {
    let key = admin_key(srv);
    let (status, list) = srv
        .call(Method::GET, "/v1/admin/matches", Some(&key), None)
        .await?;
    anyhow::ensure!(status == StatusCode::OK, "admin matches: {status} {list}");
    let Some(m) = list["matches"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["match_id"] == match_id)
    else {
        anyhow::bail!("match {match_id} not listed: {list}");
    };
    Ok(m["players"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["account_id"].as_i64().unwrap_or_default(),
                p["connected"].as_bool().unwrap_or_default(),
            )
        })
        .collect())
}

// ---- credentials ----

#[tokio::test]
async fn every_admin_route_needs_an_admin_credential_on_sqlite() -> anyhow::Result<()> {
    admin_credentials(Db::Sqlite).await
}

#[tokio::test]
async fn every_admin_route_needs_an_admin_credential_on_postgres() -> anyhow::Result<()> {
    admin_credentials(Db::Postgres).await
}

async fn admin_credentials(db: Db) -> anyhow::Result<()> {
    let Some(srv) = start(db).await? else {
        return Ok(());
    };
    let key = admin_key(&srv);
    let (player, player_token, player_refresh) =
        srv.register_and_login("plain_player", PASSWORD).await?;
    let (admin, admin_token, admin_refresh) = admin_account(&srv, "chief_admin").await?;
    let match_id = srv.create_match(&player_token, None).await?;
    let mut client = Client::join(&srv, &player_token, &match_id).await?;

    // Every admin route, in an order in which each succeeds when allowed.
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/v1/admin/matches".into(), None),
        (Method::GET, "/v1/admin/stats".into(), None),
        (Method::GET, "/v1/admin/audit".into(), None),
        (
            Method::POST,
            format!("/v1/admin/matches/{match_id}/kick"),
            Some(json!({"account_id": player, "reason": "testing kicks"})),
        ),
        (
            Method::POST,
            format!("/v1/admin/accounts/{player}/ban"),
            Some(json!({"reason": "testing bans"})),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/accounts/{player}/ban"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/admin/accounts/{player}/role"),
            Some(json!({"role": "player"})),
        ),
        (
            Method::DELETE,
            format!("/v1/admin/matches/{match_id}"),
            None,
        ),
    ];
    let mut wrong_key = key.clone();
    wrong_key.pop();
    wrong_key.push(if key.ends_with('A') { 'B' } else { 'A' });
    for (method, path, body) in &routes {
        let refusals = [
            (
                None,
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "without a token",
            ),
            (
                Some(&player_token),
                StatusCode::FORBIDDEN,
                "forbidden",
                "with a player's token",
            ),
            (
                Some(&wrong_key),
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "with a wrong admin key",
            ),
            (
                Some(&admin_refresh),
                StatusCode::UNAUTHORIZED,
                "wrong_token_kind",
                "with an admin's refresh token",
            ),
            (
                Some(&player_refresh),
                StatusCode::UNAUTHORIZED,
                "wrong_token_kind",
                "with a player's refresh token",
            ),
        ];
        for (token, status, code, how) in refusals {
            let got = srv
                .call(
                    method.clone(),
                    path,
                    token.map(String::as_str),
                    body.clone(),
                )
                .await?;
            assert_error(&got, status, code, &format!("{method} {path} {how}"));
        }
    }
    assert_eq!(
        live_players(&srv, &match_id).await?,
        vec![(player, true)],
        "the refused kick, ban and end left the player playing"
    );
    assert_eq!(
        login(&srv, "plain_player").await?.0,
        StatusCode::OK,
        "the refused ban did not ban"
    );
    let only_promotion = audit_entries(&srv).await?;
    assert_eq!(
        only_promotion.len(),
        1,
        "refused requests wrote no audit rows: {only_promotion:?}"
    );

    // Allowed: the key and the admin account's token, taking turns.
    let mut expected_audit = Vec::new();
    for (i, (method, path, body)) in routes.iter().enumerate() {
        let (token, actor) = if i % 2 == 0 {
            (key.as_str(), "admin-key".to_string())
        } else {
            (admin_token.as_str(), format!("account:{admin}"))
        };
        let (status, answer) = srv
            .call(method.clone(), path, Some(token), body.clone())
            .await?;
        assert!(
            status.is_success(),
            "{method} {path} as {actor}: {status} {answer}"
        );
        if *method != Method::GET {
            expected_audit.push(actor);
        }
    }
    let kicked = client.ending().await?;
    assert_eq!(
        kicked.code,
        close::KICKED,
        "the allowed kick closed: {kicked:?}"
    );

    let entries = audit_entries(&srv).await?;
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["end_match", "set_role", "unban", "ban", "kick", "set_role"],
        "every action logged, newest first"
    );
    expected_audit.reverse();
    expected_audit.push("admin-key".to_string());
    let actors: Vec<String> = entries.iter().map(|e| text(&e["actor"])).collect();
    assert_eq!(actors, expected_audit, "each action's actor");

    // Tokens signed with the server's key: an expired admin token is refused like any expired
    // token, and an admin role claim counts only if the account really is an admin.
    let tokens = &srv.server.state.tokens;
    let expired = tokens.issue(admin, "admin", TokenKind::Access, srv.clock.now_s() - 7200);
    assert_error(
        &srv.call(Method::GET, "/v1/admin/stats", Some(&expired), None)
            .await?,
        StatusCode::UNAUTHORIZED,
        "token_expired",
        "an expired admin token",
    );
    let claimed = tokens.issue(player, "admin", TokenKind::Access, srv.clock.now_s());
    assert_error(
        &srv.call(Method::GET, "/v1/admin/stats", Some(&claimed), None)
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
        "an admin claim for a player account",
    );
    let (status, _) = srv
        .call(Method::GET, "/v1/admin/stats", Some(&key), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "the key still works");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_admin_role_is_granted_and_revoked_at_once() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let key = admin_key(&srv);
    let (id, player_token, _) = srv.register_and_login("rising_star", PASSWORD).await?;
    let stats = |token: String| {
        let srv = &srv;
        async move {
            srv.call(Method::GET, "/v1/admin/stats", Some(&token), None)
                .await
        }
    };
    assert_error(
        &stats(player_token.clone()).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
        "before promotion",
    );
    let (status, role) = srv
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{id}/role"),
            Some(&key),
            Some(json!({"role": "admin"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "promote: {role}");
    assert_eq!(
        (
            role["account_id"].as_i64(),
            role["username"].as_str(),
            role["role"].as_str()
        ),
        (Some(id), Some("rising_star"), Some("admin")),
        "the answer names the account and its new role"
    );
    assert_error(
        &stats(player_token).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
        "a token issued before the promotion still says player",
    );
    let (_, session) = login(&srv, "rising_star").await?;
    let admin_token = text(&session["access_token"]);
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&admin_token), None)
        .await?;
    assert_eq!(
        (status, me["role"].as_str()),
        (StatusCode::OK, Some("admin")),
        "me says admin: {me}"
    );
    assert_eq!(
        stats(admin_token.clone()).await?.0,
        StatusCode::OK,
        "the new token is an admin credential"
    );

    let (status, _) = srv
        .call(
            Method::PUT,
            &format!("/v1/admin/accounts/{id}/role"),
            Some(&key),
            Some(json!({"role": "player"})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "demote");
    assert_error(
        &stats(admin_token.clone()).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
        "a demoted admin's unexpired token is refused at once",
    );

    let (_, guest_token) = srv.guest("device-guest-admin-01").await?;
    let (status, me) = srv
        .call(Method::GET, "/v1/accounts/me", Some(&guest_token), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "guest me");
    let guest = me["account_id"].as_i64().expect("guest account id");
    assert_error(
        &srv.call(
            Method::PUT,
            &format!("/v1/admin/accounts/{guest}/role"),
            Some(&key),
            Some(json!({"role": "admin"})),
        )
        .await?,
        StatusCode::CONFLICT,
        "guest_account",
        "a guest cannot be an admin",
    );

    let entries = audit_entries(&srv).await?;
    let details: Vec<(String, Value)> = entries
        .iter()
        .map(|e| (text(&e["action"]), e["detail"].clone()))
        .collect();
    assert_eq!(
        details,
        vec![
            (
                "set_role".to_string(),
                json!({"role": "player", "previous": "admin"})
            ),
            (
                "set_role".to_string(),
                json!({"role": "admin", "previous": "player"})
            ),
        ],
        "role changes logged with the previous role; the refused one not at all"
    );
    srv.stop().await;
    Ok(())
}

// ---- bans ----

#[tokio::test]
async fn a_ban_closes_live_connections_and_locks_the_account_out_on_sqlite() -> anyhow::Result<()> {
    ban_flow(Db::Sqlite).await
}

#[tokio::test]
async fn a_ban_closes_live_connections_and_locks_the_account_out_on_postgres() -> anyhow::Result<()>
{
    ban_flow(Db::Postgres).await
}

async fn ban_flow(db: Db) -> anyhow::Result<()> {
    let Some(srv) = start(db).await? else {
        return Ok(());
    };
    let key = admin_key(&srv);
    let (_, admin_token, _) = admin_account(&srv, "ban_hammer").await?;
    let (victim, victim_token, victim_refresh) =
        srv.register_and_login("rule_breaker", PASSWORD).await?;
    let (bystander, bystander_token) = srv.guest("device-bystander-01").await?;
    let match_id = srv.create_match(&bystander_token, None).await?;
    let mut watcher = Client::join(&srv, &bystander_token, &match_id).await?;
    let mut client = Client::join(&srv, &victim_token, &match_id).await?;
    // A ticket taken before the ban, presented after it.
    let (spare_ticket, url) = srv.ticket(&victim_token, &match_id).await?;

    let (status, ban) = srv
        .call(
            Method::POST,
            &format!("/v1/admin/accounts/{victim}/ban"),
            Some(&admin_token),
            Some(json!({"reason": "aimbot", "until": null})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "ban: {ban}");
    assert_eq!(
        ban,
        json!({
            "account_id": victim, "banned": true, "permanent": true, "until": null,
            "reason": "aimbot", "kicked_from": [match_id],
        }),
        "the ban answer"
    );
    let ending = client.ending().await?;
    assert_eq!(
        ending.code,
        close::KICKED,
        "the banned player's socket is closed as kicked: {ending:?}"
    );
    assert_eq!(
        ending.kicked.as_deref(),
        Some("banned: aimbot"),
        "told why before the close"
    );
    assert!(
        ending.reason.contains("banned: aimbot"),
        "the close reason says why: {}",
        ending.reason
    );
    let tick = watcher.snapshot_after(Tick::ZERO).await?;
    watcher.snapshot_after(tick).await?;
    assert_eq!(
        live_players(&srv, &match_id).await?,
        vec![(bystander, true)],
        "the banned player's seat is gone; the other player plays on"
    );

    let refused = login(&srv, "rule_breaker").await?;
    assert_error(&refused, StatusCode::FORBIDDEN, "banned", "login");
    assert!(
        text(&refused.1["error"]["message"]).contains("aimbot"),
        "the login refusal gives the reason: {}",
        refused.1
    );
    assert_error(
        &srv.call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(json!({"refresh_token": victim_refresh})),
        )
        .await?,
        StatusCode::FORBIDDEN,
        "banned",
        "refresh",
    );
    assert_error(
        &srv.call(
            Method::POST,
            &format!("/v1/matches/{match_id}/join"),
            Some(&victim_token),
            None,
        )
        .await?,
        StatusCode::FORBIDDEN,
        "banned",
        "join ticket",
    );
    assert_error(
        &srv.call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&victim_token),
            None,
        )
        .await?,
        StatusCode::FORBIDDEN,
        "banned",
        "quick-join ticket",
    );
    match Session::join(&url, &spare_ticket, &shared::games::arena::PROTOCOL, true).await {
        Err(JoinError::Refused { code, reason }) => {
            assert_eq!(code, close::BANNED, "handshake refused as banned: {reason}")
        }
        Err(other) => panic!("expected a BANNED refusal, got {other}"),
        Ok(_) => panic!("a banned account passed the realtime handshake"),
    }

    let (status, unban) = srv
        .call(
            Method::DELETE,
            &format!("/v1/admin/accounts/{victim}/ban"),
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "unban: {unban}");
    assert_eq!(unban["banned"], false, "unbanned: {unban}");
    let (status, session) = login(&srv, "rule_breaker").await?;
    assert_eq!(status, StatusCode::OK, "login after unban: {session}");
    let token = text(&session["access_token"]);
    let mut back = Client::join(&srv, &token, &match_id).await?;
    back.snapshot_after(Tick::ZERO).await?;

    // A ban with an end: refused until then, let in after (time injected, not waited for).
    let until = srv.clock.now_s() + 3600;
    let (status, ban) = srv
        .call(
            Method::POST,
            &format!("/v1/admin/accounts/{victim}/ban"),
            Some(&key),
            Some(json!({"reason": "cool off", "until": until})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "temporary ban: {ban}");
    assert_eq!(ban["permanent"], false, "not permanent: {ban}");
    assert_eq!(ban["kicked_from"], json!([match_id]), "kicked again: {ban}");
    let until_text = text(&ban["until"]);
    assert!(
        until_text.ends_with('Z') && until_text.len() == 20,
        "until in RFC 3339: {ban}"
    );
    assert_eq!(back.ending().await?.code, close::KICKED, "kicked again");
    assert_error(
        &login(&srv, "rule_breaker").await?,
        StatusCode::FORBIDDEN,
        "banned",
        "login during a temporary ban",
    );
    // The same end, given as RFC 3339, answers the same.
    let (status, again) = srv
        .call(
            Method::POST,
            &format!("/v1/admin/accounts/{victim}/ban"),
            Some(&key),
            Some(json!({"reason": "cool off", "until": until_text})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "ban with RFC 3339: {again}");
    assert_eq!(again["until"], ban["until"], "same end either way");
    srv.clock.advance(Duration::from_secs(3601));
    assert_eq!(
        login(&srv, "rule_breaker").await?.0,
        StatusCode::OK,
        "the ban ran out"
    );

    let entries = audit_entries(&srv).await?;
    let actions: Vec<String> = entries.iter().map(|e| text(&e["action"])).collect();
    assert_eq!(
        actions,
        ["ban", "ban", "unban", "ban", "set_role"],
        "bans and unbans logged, newest first"
    );
    assert_eq!(
        entries[3]["detail"],
        json!({"reason": "aimbot", "until": null}),
        "the permanent ban's detail"
    );
    assert_eq!(
        entries[3]["target"],
        format!("account:{victim}"),
        "the ban's target"
    );
    assert_eq!(
        entries[2]["detail"],
        json!({"was_banned": true, "previous_reason": "aimbot"}),
        "the unban's detail"
    );
    srv.stop().await;
    Ok(())
}

// ---- kick and end ----

#[tokio::test]
async fn a_kick_closes_the_players_socket_with_the_reason() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let key = admin_key(&srv);
    let (stay, stay_token) = srv.guest("device-kick-stay-01").await?;
    let (go, go_token) = srv.guest("device-kick-go-001").await?;
    let match_id = srv.create_match(&stay_token, None).await?;
    let mut staying = Client::join(&srv, &stay_token, &match_id).await?;
    let mut going = Client::join(&srv, &go_token, &match_id).await?;
    let kick = |account_id: i64, match_id: String| {
        let (srv, key) = (&srv, key.clone());
        async move {
            srv.call(
                Method::POST,
                &format!("/v1/admin/matches/{match_id}/kick"),
                Some(&key),
                Some(json!({"account_id": account_id, "reason": "griefing teammates"})),
            )
            .await
        }
    };

    let (status, done) = kick(go, match_id.clone()).await?;
    assert_eq!(status, StatusCode::OK, "kick: {done}");
    assert_eq!(
        done,
        json!({"match_id": match_id, "account_id": go, "reason": "griefing teammates"}),
        "the kick answer"
    );
    let ending = going.ending().await?;
    assert_eq!(ending.code, close::KICKED, "closed as kicked: {ending:?}");
    assert_eq!(
        ending.kicked.as_deref(),
        Some("griefing teammates"),
        "Kicked carries the reason"
    );
    assert_eq!(
        ending.reason, "kicked: griefing teammates",
        "the close frame carries it too"
    );
    let tick = staying.snapshot_after(Tick::ZERO).await?;
    staying.snapshot_after(tick).await?;
    assert_eq!(
        live_players(&srv, &match_id).await?,
        vec![(stay, true)],
        "only the other player is left"
    );

    assert_error(
        &kick(go, match_id.clone()).await?,
        StatusCode::NOT_FOUND,
        "player_not_in_match",
        "kicking a player who is not in the match",
    );
    assert_error(
        &kick(stay, "m_nosuchmatch".into()).await?,
        StatusCode::NOT_FOUND,
        "match_not_found",
        "kicking from a match that is not live",
    );

    // A kick is not a ban: the player may come back.
    let mut back = Client::join(&srv, &go_token, &match_id).await?;
    assert_ne!(
        back.player_id, going.player_id,
        "a fresh player in the match"
    );
    back.snapshot_after(Tick::ZERO).await?;

    let entries = audit_entries(&srv).await?;
    assert_eq!(entries.len(), 1, "one kick logged: {entries:?}");
    assert_eq!(
        (
            text(&entries[0]["action"]),
            text(&entries[0]["target"]),
            entries[0]["detail"].clone()
        ),
        (
            "kick".to_string(),
            format!("account:{go}"),
            json!({"match_id": match_id, "reason": "griefing teammates"})
        ),
        "the kick's audit row"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn ending_a_match_sends_results_and_closes_every_connection_on_sqlite() -> anyhow::Result<()>
{
    end_match_flow(Db::Sqlite).await
}

#[tokio::test]
async fn ending_a_match_sends_results_and_closes_every_connection_on_postgres() -> anyhow::Result<()>
{
    end_match_flow(Db::Postgres).await
}

async fn end_match_flow(db: Db) -> anyhow::Result<()> {
    let Some(srv) = start(db).await? else {
        return Ok(());
    };
    let key = admin_key(&srv);
    let (_, a_token) = srv.guest("device-end-a-0001").await?;
    let (_, b_token) = srv.guest("device-end-b-0001").await?;
    let match_id = srv.create_match(&a_token, None).await?;
    let mut a = Client::join(&srv, &a_token, &match_id).await?;
    let mut b = Client::join(&srv, &b_token, &match_id).await?;
    a.snapshot_after(Tick::ZERO).await?;

    let (status, ending) = srv
        .call(
            Method::DELETE,
            &format!("/v1/admin/matches/{match_id}"),
            Some(&key),
            Some(json!({"reason": "server maintenance"})),
        )
        .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "end: {ending}");
    assert_eq!(
        ending,
        json!({"match_id": match_id, "reason": "server maintenance", "status": "ending"}),
        "the end answer"
    );
    for (name, client) in [("a", &mut a), ("b", &mut b)] {
        let ending = client.ending().await?;
        assert_eq!(
            ending.code,
            close::MATCH_ENDED,
            "{name}: closed as match ended: {ending:?}"
        );
        assert_eq!(
            ending.reason, "server maintenance",
            "{name}: the close reason is the admin's"
        );
        let results = ending.results.expect("MatchEnd before the close");
        assert_eq!(results.len(), 2, "{name}: results of both players");
        assert!(
            results.iter().any(|r| r.player_id == client.player_id),
            "{name}: its own line"
        );
    }
    let stored = srv.server.state.store.match_results(&match_id).await?;
    assert_eq!(stored.len(), 2, "results stored for both players");
    let row = srv
        .server
        .state
        .store
        .match_by_id(&match_id)
        .await?
        .expect("match row");
    assert_eq!(row.state, "ended", "the match is marked ended");
    assert_error(
        &srv.call(
            Method::POST,
            &format!("/v1/matches/{match_id}/join"),
            Some(&a_token),
            None,
        )
        .await?,
        StatusCode::CONFLICT,
        "match_ended",
        "joining the ended match",
    );
    let entries = audit_entries(&srv).await?;
    assert_eq!(
        entries
            .iter()
            .map(|e| (text(&e["action"]), text(&e["target"]), e["detail"].clone()))
            .collect::<Vec<_>>(),
        vec![(
            "end_match".to_string(),
            format!("match:{match_id}"),
            json!({"reason": "server maintenance"})
        )],
        "the end logged"
    );
    srv.stop().await;
    Ok(())
}

// ---- reads ----

#[tokio::test]
async fn live_matches_and_stats_describe_this_node() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let key = admin_key(&srv);
    let (a, a_token) = srv.guest("device-stats-a-001").await?;
    let (b, b_token) = srv.guest("device-stats-b-001").await?;
    let match_id = srv.create_match(&a_token, None).await?;
    let idle_match = srv.create_match(&a_token, None).await?;
    let mut first = Client::join(&srv, &a_token, &match_id).await?;
    let second = Client::join(&srv, &b_token, &match_id).await?;
    first.snapshot_after(Tick::ZERO).await?;

    let (status, list) = srv
        .call(Method::GET, "/v1/admin/matches", Some(&key), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "list: {list}");
    let matches = list["matches"].as_array().expect("matches array");
    assert_eq!(
        matches.len(),
        1,
        "only the match someone joined is live here (not {idle_match}): {list}"
    );
    let m = &matches[0];
    assert_eq!(m["match_id"], match_id, "the live match");
    let arena = srv.server.state.games.get("arena").expect("arena served");
    assert_eq!(m["map"], arena.default_map.as_str(), "its map");
    assert_eq!(m["game"], "arena", "its game");
    assert!(
        m["tick"].as_u64().is_some_and(|t| t >= 1) && m["ticks_remaining"].as_u64().is_some(),
        "tick and ticks remaining: {m}"
    );
    let mut players: Vec<(i64, u64, bool, bool, bool)> = m["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| {
            (
                p["account_id"].as_i64().unwrap_or_default(),
                p["player_id"].as_u64().unwrap_or_default(),
                p["connected"].as_bool().unwrap_or_default(),
                p["username"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("guest_")),
                p["score"].is_i64(),
            )
        })
        .collect();
    players.sort();
    let mut expected = vec![
        (a, u64::from(first.player_id), true, true, true),
        (b, u64::from(second.player_id), true, true, true),
    ];
    expected.sort();
    assert_eq!(players, expected, "both players with their ids: {m}");
    assert!(
        list["node_id"]
            .as_str()
            .is_some_and(|n| n == srv.server.state.node_id),
        "names the node: {list}"
    );

    let (status, stats) = srv
        .call(Method::GET, "/v1/admin/stats", Some(&key), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "stats: {stats}");
    assert_eq!(stats["matches"], 1, "one live match: {stats}");
    assert_eq!(stats["players_connected"], 2, "two connected: {stats}");
    assert_eq!(stats["players_seated"], 2, "two seated: {stats}");
    assert_eq!(
        stats["version"],
        env!("CARGO_PKG_VERSION"),
        "the workspace version: {stats}"
    );
    assert!(stats["uptime_s"].is_u64(), "uptime: {stats}");
    let tick = &stats["tick"];
    assert_eq!(
        tick["rate"],
        srv.server
            .state
            .games
            .get("arena")
            .expect("arena")
            .tick_rate,
        "tick rate: {stats}"
    );
    assert!(
        tick["count"].as_u64().is_some_and(|c| c >= 1),
        "ticks counted: {stats}"
    );
    let mean = tick["mean_ms"].as_f64().expect("mean_ms");
    let p99 = tick["p99_ms"].as_f64().expect("p99_ms");
    assert!(mean > 0.0 && p99 > 0.0, "tick timing: {stats}");
    assert!(
        tick["late_ticks"].is_u64() && tick["skipped_ticks"].is_u64(),
        "late and skipped ticks: {stats}"
    );

    assert!(
        audit_entries(&srv).await?.is_empty(),
        "reads write no audit rows"
    );
    srv.stop().await;
    Ok(())
}

// ---- audit log ----

#[tokio::test]
async fn the_audit_log_pages_newest_first_on_sqlite() -> anyhow::Result<()> {
    audit_pages(Db::Sqlite).await
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_on_postgres() -> anyhow::Result<()> {
    audit_pages(Db::Postgres).await
}

async fn audit_pages(db: Db) -> anyhow::Result<()> {
    let Some(srv) = start(db).await? else {
        return Ok(());
    };
    let key = admin_key(&srv);
    let (id, _, _) = srv.register_and_login("often_banned", PASSWORD).await?;
    let ban_path = format!("/v1/admin/accounts/{id}/ban");
    let ban = |reason: String| {
        let (srv, key, path) = (&srv, key.clone(), ban_path.clone());
        async move {
            let (status, body) = srv
                .call(
                    Method::POST,
                    &path,
                    Some(&key),
                    Some(json!({ "reason": reason })),
                )
                .await?;
            anyhow::ensure!(status == StatusCode::OK, "ban: {status} {body}");
            anyhow::Ok(())
        }
    };
    for i in 0..7 {
        ban(format!("offence {i}")).await?;
    }

    let page = |cursor: Option<String>| {
        let (srv, key) = (&srv, key.clone());
        async move {
            let path = match cursor {
                Some(c) => format!("/v1/admin/audit?limit=3&cursor={c}"),
                None => "/v1/admin/audit?limit=3".to_string(),
            };
            let (status, body) = srv.call(Method::GET, &path, Some(&key), None).await?;
            anyhow::ensure!(status == StatusCode::OK, "audit page: {status} {body}");
            anyhow::Ok(body)
        }
    };
    let mut seen = Vec::new();
    let mut ids = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let body = page(cursor.clone()).await?;
        pages += 1;
        let entries = body["entries"].as_array().expect("entries");
        assert!(entries.len() <= 3, "at most limit entries: {body}");
        for e in entries {
            seen.push(text(&e["detail"]["reason"]));
            ids.push(e["id"].as_i64().expect("id"));
            assert_eq!(e["actor"], "admin-key", "actor: {e}");
            assert_eq!(e["target"], format!("account:{id}"), "target: {e}");
            let at = text(&e["at"]);
            assert!(
                at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
                "at in RFC 3339: {e}"
            );
        }
        if pages == 1 {
            // Written after the first page: later pages never show it.
            ban("late offence".into()).await?;
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        anyhow::ensure!(pages < 10, "pagination does not end");
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("offence {i}")).collect();
    assert_eq!(seen, expected, "every entry once, newest first");
    assert_eq!(pages, 3, "7 entries in pages of 3");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids decrease: {ids:?}");

    let newest = page(None).await?;
    assert_eq!(
        newest["entries"][0]["detail"]["reason"], "late offence",
        "a fresh first page starts with the newest entry"
    );

    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=many", "invalid_query"),
        ("cursor=not-a-cursor", "invalid_cursor"),
    ] {
        assert_error(
            &srv.call(
                Method::GET,
                &format!("/v1/admin/audit?{query}"),
                Some(&key),
                None,
            )
            .await?,
            StatusCode::BAD_REQUEST,
            code,
            query,
        );
    }
    srv.stop().await;
    Ok(())
}

// ---- bad input ----

#[tokio::test]
async fn unknown_ids_get_404_and_bad_bodies_get_4xx() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let key = admin_key(&srv);
    let (id, token, _) = srv.register_and_login("well_behaved", PASSWORD).await?;
    let not_live = srv.create_match(&token, None).await?;
    let (guest, _) = srv.guest("device-bad-input-01").await?;
    let unknown = 4_503_599_627_370_495_i64; // far above any id made in this test
    let call = |method: Method, path: String, body: Option<Value>| {
        let (srv, key) = (&srv, key.clone());
        async move { srv.call(method, &path, Some(&key), body).await }
    };
    let reason = Some(json!({"reason": "x"}));

    // Unknown ids.
    for account in [unknown.to_string(), "not-a-number".to_string()] {
        let what = |w: &str| format!("{w} of account {account}");
        assert_error(
            &call(
                Method::POST,
                format!("/v1/admin/accounts/{account}/ban"),
                reason.clone(),
            )
            .await?,
            StatusCode::NOT_FOUND,
            "account_not_found",
            &what("ban"),
        );
        assert_error(
            &call(
                Method::DELETE,
                format!("/v1/admin/accounts/{account}/ban"),
                None,
            )
            .await?,
            StatusCode::NOT_FOUND,
            "account_not_found",
            &what("unban"),
        );
        assert_error(
            &call(
                Method::PUT,
                format!("/v1/admin/accounts/{account}/role"),
                Some(json!({"role": "admin"})),
            )
            .await?,
            StatusCode::NOT_FOUND,
            "account_not_found",
            &what("role"),
        );
    }
    for match_id in ["m_nosuchmatch", not_live.as_str()] {
        assert_error(
            &call(
                Method::DELETE,
                format!("/v1/admin/matches/{match_id}"),
                None,
            )
            .await?,
            StatusCode::NOT_FOUND,
            "match_not_found",
            &format!("end {match_id}"),
        );
        assert_error(
            &call(
                Method::POST,
                format!("/v1/admin/matches/{match_id}/kick"),
                Some(json!({"account_id": id, "reason": "x"})),
            )
            .await?,
            StatusCode::NOT_FOUND,
            "match_not_found",
            &format!("kick from {match_id}"),
        );
    }

    // Bad bodies.
    let ban_path = format!("/v1/admin/accounts/{id}/ban");
    let bad_bans = [
        (json!({}), "invalid_body", "no reason"),
        (json!({"reason": ""}), "invalid_reason", "empty reason"),
        (json!({"reason": "   "}), "invalid_reason", "blank reason"),
        (
            json!({"reason": "x".repeat(201)}),
            "invalid_reason",
            "long reason",
        ),
        (json!({"reason": 7}), "invalid_body", "numeric reason"),
        (
            json!({"reason": "x", "until": "next tuesday"}),
            "invalid_until",
            "until not a time",
        ),
        (
            json!({"reason": "x", "until": "2001-01-01T00:00:00Z"}),
            "invalid_until",
            "until in the past",
        ),
        (
            json!({"reason": "x", "until": 1}),
            "invalid_until",
            "until in 1970",
        ),
        (
            json!({"reason": "x", "until": i64::MAX}),
            "invalid_until",
            "until out of range",
        ),
        (
            json!({"reason": "x", "until": 1.5}),
            "invalid_body",
            "fractional until",
        ),
        (
            json!({"reason": "x", "duration": 60}),
            "invalid_body",
            "unknown field",
        ),
    ];
    for (body, code, what) in bad_bans {
        assert_error(
            &call(Method::POST, ban_path.clone(), Some(body)).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            &format!("ban: {what}"),
        );
    }
    assert_error(
        &call(
            Method::PUT,
            format!("/v1/admin/accounts/{id}/role"),
            Some(json!({"role": "superuser"})),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        "unknown role",
    );
    assert_error(
        &call(
            Method::PUT,
            format!("/v1/admin/accounts/{guest}/role"),
            Some(json!({"role": "admin"})),
        )
        .await?,
        StatusCode::CONFLICT,
        "guest_account",
        "a guest made admin",
    );
    let kick_path = format!("/v1/admin/matches/{not_live}/kick");
    for (body, what) in [
        (json!({"reason": "x"}), "no account"),
        (
            json!({"account_id": "me", "reason": "x"}),
            "account not a number",
        ),
        (json!({"account_id": id}), "no reason"),
    ] {
        assert_error(
            &call(Method::POST, kick_path.clone(), Some(body)).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            &format!("kick: {what}"),
        );
    }
    let raw = srv
        .http
        .post(srv.url(&ban_path))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"reason\":")
        .send()
        .await?;
    let status = raw.status();
    let body: Value = raw.json().await?;
    assert_error(
        &(status, body),
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "ban: malformed JSON",
    );
    let no_body = call(Method::POST, ban_path.clone(), None).await?;
    assert!(
        no_body.0.is_client_error() && no_body.1["error"]["code"].is_string(),
        "ban without a body: {no_body:?}"
    );
    assert!(
        audit_entries(&srv).await?.is_empty(),
        "nothing refused was logged"
    );
    assert_eq!(
        login(&srv, "well_behaved").await?.0,
        StatusCode::OK,
        "and nobody was banned"
    );
    srv.stop().await;
    Ok(())
}
