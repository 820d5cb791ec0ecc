//! Leaderboards over real HTTPS, on SQLite and PostgreSQL: ranks from stored match results on
//! each operator, ties, cursor pagination that holds while results arrive, around-me, seasons.
//! Results go in through the server-side function a match end calls, never an endpoint.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use server::config::Limits;
use server::leaderboards::{BoardDef, Metric, Operator, Order, Reset};
use server::store::ResultRow;
use tests::{Db, Options, TestServer, assert_error, postgres_url};

fn board(id: &str, metric: Metric, operator: Operator, order: Order, reset: Reset) -> BoardDef {
    BoardDef {
        id: id.into(),
        game: "arena".into(),
        metric,
        operator,
        order,
        reset,
    }
}

fn boards() -> Vec<BoardDef> {
    vec![
        board(
            "total",
            Metric::Score,
            Operator::Sum,
            Order::Desc,
            Reset::Never,
        ),
        board(
            "best",
            Metric::Score,
            Operator::Best,
            Order::Desc,
            Reset::Never,
        ),
        board(
            "latest",
            Metric::Score,
            Operator::Latest,
            Order::Desc,
            Reset::Never,
        ),
        board(
            "kills",
            Metric::Stat("kills".into()),
            Operator::Sum,
            Order::Desc,
            Reset::Never,
        ),
        board(
            "fewest_deaths",
            Metric::Stat("deaths".into()),
            Operator::Best,
            Order::Asc,
            Reset::Never,
        ),
        board(
            "weekly",
            Metric::Score,
            Operator::Sum,
            Order::Desc,
            Reset::Weekly,
        ),
    ]
}

async fn start(db: Db) -> anyhow::Result<TestServer> {
    let limits = Limits {
        leaderboard_snapshot_lag_ms: 0,
        ..Limits::default()
    };
    TestServer::start_with(Options {
        db,
        limits,
        leaderboards: boards(),
        ..Options::default()
    })
    .await
}

/// Stores one match's results as a match end would, then moves the clock on so the next write
/// is a later achievement.
async fn record(
    srv: &TestServer,
    match_id: &str,
    lines: &[(i64, i32, u32, u32)],
) -> anyhow::Result<()> {
    let rows: Vec<ResultRow> = lines
        .iter()
        .enumerate()
        .map(|(i, (account_id, score, kills, deaths))| ResultRow {
            account_id: *account_id,
            player_id: i as u32 + 1,
            username: format!("player{account_id}"),
            score: i64::from(*score),
            stats: vec![
                ("kills".into(), i64::from(*kills)),
                ("deaths".into(), i64::from(*deaths)),
            ],
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

async fn get(srv: &TestServer, path: &str) -> anyhow::Result<Value> {
    let (status, body) = srv.call(Method::GET, path, None, None).await?;
    anyhow::ensure!(status == StatusCode::OK, "GET {path}: {status} {body}");
    Ok(body)
}

/// (rank, account, score) of a page.
fn lines(page: &Value) -> Vec<(u64, i64, i64)> {
    page["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["rank"].as_u64().expect("rank"),
                r["account_id"].as_i64().expect("id"),
                r["score"].as_i64().expect("score"),
            )
        })
        .collect()
}

async fn ranks_follow_results(db: Db) -> anyhow::Result<()> {
    let srv = start(db).await?;
    // account: (score, kills, deaths) per match
    record(&srv, "m1", &[(1, 10, 1, 3), (2, 30, 2, 1), (3, 20, 0, 0)]).await?;
    record(&srv, "m2", &[(1, 25, 4, 2), (2, 5, 1, 5), (4, 40, 3, 1)]).await?;
    record(&srv, "m3", &[(3, 15, 1, 1), (5, 35, 0, 0)]).await?;
    // A repeated match id writes nothing the second time.
    record(&srv, "m3", &[(3, 1000, 1, 1)]).await?;

    let total = get(&srv, "/v1/leaderboards/total").await?;
    // Totals: 1 = 35 (at m2), 2 = 35 (at m2), 3 = 35 (at m3), 4 = 40, 5 = 35 (at m3). Account 4
    // leads; the 35s rank by when they got there, and ties in one write by account id.
    assert_eq!(
        lines(&total),
        vec![(1, 4, 40), (2, 1, 35), (3, 2, 35), (4, 3, 35), (5, 5, 35)],
        "sum board with ties: earlier achiever first"
    );
    let best = get(&srv, "/v1/leaderboards/best").await?;
    assert_eq!(
        lines(&best),
        vec![(1, 4, 40), (2, 5, 35), (3, 2, 30), (4, 1, 25), (5, 3, 20)],
        "best board keeps each account's best match"
    );
    let latest = get(&srv, "/v1/leaderboards/latest").await?;
    assert_eq!(
        lines(&latest),
        vec![(1, 4, 40), (2, 5, 35), (3, 1, 25), (4, 3, 15), (5, 2, 5)],
        "latest board keeps each account's last match"
    );
    let kills = get(&srv, "/v1/leaderboards/kills").await?;
    assert_eq!(
        lines(&kills)[0],
        (1, 1, 5),
        "kills summed: account 1 has 1 + 4"
    );
    let deaths = get(&srv, "/v1/leaderboards/fewest_deaths").await?;
    assert_eq!(
        lines(&deaths),
        vec![(1, 3, 0), (2, 5, 0), (3, 2, 1), (4, 4, 1), (5, 1, 2)],
        "ascending best board: fewest deaths first, earlier achiever first among ties"
    );

    let one = get(&srv, "/v1/leaderboards/total/accounts/3").await?;
    assert_eq!(
        (one["rank"].as_u64(), one["score"].as_i64()),
        (Some(4), Some(35)),
        "one account's rank: {one}"
    );
    let friends = get(&srv, "/v1/leaderboards/total/records?account_ids=5,1,99").await?;
    assert_eq!(
        lines(&friends),
        vec![(2, 1, 35), (5, 5, 35)],
        "friends' records, best first, unknown left out"
    );

    let got = srv
        .call(
            Method::GET,
            "/v1/leaderboards/total/accounts/99",
            None,
            None,
        )
        .await?;
    assert_error(&got, StatusCode::NOT_FOUND, "record_not_found", "no record");
    let got = srv
        .call(Method::GET, "/v1/leaderboards/nope", None, None)
        .await?;
    assert_error(
        &got,
        StatusCode::NOT_FOUND,
        "leaderboard_not_found",
        "unknown board",
    );
    for bad in ["0", "101", "-1"] {
        let got = srv
            .call(
                Method::GET,
                &format!("/v1/leaderboards/total?limit={bad}"),
                None,
                None,
            )
            .await?;
        assert_error(
            &got,
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            &format!("limit {bad}"),
        );
    }
    let got = srv
        .call(
            Method::GET,
            "/v1/leaderboards/total?cursor=garbage",
            None,
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
        "garbage cursor",
    );
    // No endpoint takes a score from a player.
    let (_, token) = srv.guest("device-cheater-01").await?;
    for method in [Method::POST, Method::PUT, Method::PATCH] {
        let (status, _) = srv
            .call(
                method.clone(),
                "/v1/leaderboards/total",
                Some(&token),
                Some(serde_json::json!({"score": 1_000_000})),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} of a score refused"
        );
    }
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn ranks_follow_results_on_sqlite() -> anyhow::Result<()> {
    ranks_follow_results(Db::Sqlite).await
}

#[tokio::test]
async fn ranks_follow_results_on_postgres() -> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    ranks_follow_results(Db::Postgres).await
}

async fn pagination_holds_while_results_arrive(db: Db) -> anyhow::Result<()> {
    let srv = start(db).await?;
    let first: Vec<(i64, i32, u32, u32)> =
        (1..=60).map(|a| (a, (a * 7 % 50) as i32, 0, 0)).collect();
    record(&srv, "seed", &first).await?;
    let mut seen = Vec::new();
    let mut ranks = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/leaderboards/total?limit=7&cursor={c}"),
            None => "/v1/leaderboards/total?limit=7".into(),
        };
        let page = get(&srv, &path).await?;
        for (rank, account, _) in lines(&page) {
            seen.push(account);
            ranks.push(rank);
        }
        // Between pages: existing accounts jump up and down (some already seen, some not) and
        // new accounts arrive.
        round += 1;
        let churn: Vec<(i64, i32, u32, u32)> = vec![
            (round % 60 + 1, 100, 0, 0),
            ((round * 13) % 60 + 1, 3, 0, 0),
            (1000 + round, 60, 0, 0),
        ];
        record(&srv, &format!("churn{round}"), &churn).await?;
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
        anyhow::ensure!(round < 100, "pagination did not end");
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 60, "60 records visited: {seen:?}");
    assert_eq!(
        unique,
        (1..=60).collect::<BTreeSet<i64>>(),
        "each of the 60 exactly once"
    );
    assert_eq!(
        ranks,
        (1..=60).collect::<Vec<u64>>(),
        "ranks run 1..60 without gaps"
    );

    // A fresh first page sees the new state.
    let fresh = get(&srv, "/v1/leaderboards/total?limit=100").await?;
    assert!(
        lines(&fresh).len() > 60,
        "new accounts appear in a new pagination"
    );
    srv.clock.advance(Duration::from_secs(3600));
    let got = srv
        .call(
            Method::GET,
            &format!(
                "/v1/leaderboards/total?cursor={}",
                fresh_cursor(&srv).await?
            ),
            None,
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::GONE,
        "cursor_expired",
        "an hour-old cursor",
    );
    srv.stop().await;
    Ok(())
}

async fn fresh_cursor(srv: &TestServer) -> anyhow::Result<String> {
    // A cursor made an hour ago: take one now and move the clock back is not possible, so take
    // one before the jump by rewinding.
    srv.clock.advance(Duration::from_secs(0));
    let now = srv.clock.now_ms();
    srv.clock.set_ms(now - 3_600_000);
    let page = get(srv, "/v1/leaderboards/total?limit=1").await?;
    srv.clock.set_ms(now);
    Ok(page["next_cursor"].as_str().expect("a cursor").to_string())
}

#[tokio::test]
async fn pagination_visits_every_record_once_on_sqlite() -> anyhow::Result<()> {
    pagination_holds_while_results_arrive(Db::Sqlite).await
}

#[tokio::test]
async fn pagination_visits_every_record_once_on_postgres() -> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    pagination_holds_while_results_arrive(Db::Postgres).await
}

async fn around_me(db: Db) -> anyhow::Result<()> {
    let srv = start(db).await?;
    let (me, token) = srv.guest("device-around-01").await?;
    // 30 accounts with distinct totals; "me" gets the 15th best.
    let mut lines_in: Vec<(i64, i32, u32, u32)> = (1..=30)
        .filter(|a| *a != 15)
        .map(|a| (a, 1000 - a as i32 * 10, 0, 0))
        .collect();
    lines_in.push((me, 1000 - 15 * 10, 0, 0));
    record(&srv, "m", &lines_in).await?;

    let (status, around) = srv
        .call(
            Method::GET,
            "/v1/leaderboards/total/around/me?limit=5",
            Some(&token),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "around me: {around}");
    let got = lines(&around);
    assert_eq!(
        got.iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![13, 14, 15, 16, 17],
        "ranks around 15"
    );
    assert_eq!(got[2].1, me, "me in the middle");
    assert_eq!(got[1].1, 14, "the one above");
    assert_eq!(got[3].1, 16, "the one below");

    let top = get(&srv, "/v1/leaderboards/total/around/1?limit=5").await?;
    assert_eq!(
        lines(&top).iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5],
        "the leader's neighbours are all below"
    );
    let bottom = get(&srv, "/v1/leaderboards/total/around/30?limit=5").await?;
    assert_eq!(
        lines(&bottom).iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![28, 29, 30],
        "the last has only neighbours above"
    );

    let got = srv
        .call(Method::GET, "/v1/leaderboards/total/around/me", None, None)
        .await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "around me needs a token",
    );

    // Ranks follow new results without a restart (the rank index catches up).
    record(&srv, "m2", &[(30, 5000, 0, 0)]).await?;
    let one = get(&srv, "/v1/leaderboards/total/accounts/30").await?;
    assert_eq!(one["rank"].as_u64(), Some(1), "30 jumped to the top: {one}");
    let one = get(&srv, &format!("/v1/leaderboards/total/accounts/{me}")).await?;
    assert_eq!(one["rank"].as_u64(), Some(16), "me pushed down one: {one}");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn around_me_on_sqlite() -> anyhow::Result<()> {
    around_me(Db::Sqlite).await
}

#[tokio::test]
async fn around_me_on_postgres() -> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    around_me(Db::Postgres).await
}

#[tokio::test]
async fn the_weekly_board_rolls_over_at_monday_midnight_utc() -> anyhow::Result<()> {
    let srv = start(Db::Sqlite).await?;
    let ms = |rfc: &str| -> i64 {
        humantime::parse_rfc3339(rfc)
            .expect("time")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("epoch")
            .as_millis() as i64
    };
    srv.clock.set_ms(ms("2026-11-29T23:59:58Z"));
    record(&srv, "sunday", &[(1, 50, 0, 0), (2, 10, 0, 0)]).await?;
    let boards = get(&srv, "/v1/leaderboards").await?;
    let weekly = boards["leaderboards"]
        .as_array()
        .expect("boards")
        .iter()
        .find(|b| b["id"] == "weekly")
        .expect("weekly")
        .clone();
    assert_eq!(weekly["season"], "2026-11-23", "current season: {weekly}");
    assert_eq!(
        weekly["next_reset"], "2026-11-30T00:00:00Z",
        "next reset Monday midnight"
    );
    assert_eq!(
        weekly["prev_reset"], "2026-11-23T00:00:00Z",
        "previous reset"
    );
    let total = boards["leaderboards"]
        .as_array()
        .expect("boards")
        .iter()
        .find(|b| b["id"] == "total")
        .expect("total")
        .clone();
    assert_eq!(
        (total["season"].as_str(), total["next_reset"].is_null()),
        (Some("all"), true),
        "never-reset board"
    );

    srv.clock.set_ms(ms("2026-11-30T00:00:01Z"));
    record(&srv, "monday", &[(2, 5, 0, 0), (3, 7, 0, 0)]).await?;
    let now = get(&srv, "/v1/leaderboards/weekly").await?;
    assert_eq!(now["season"], "2026-11-30", "a new season");
    assert_eq!(
        lines(&now),
        vec![(1, 3, 7), (2, 2, 5)],
        "only this week's results"
    );
    let old = get(&srv, "/v1/leaderboards/weekly?season=2026-11-23").await?;
    assert_eq!(
        lines(&old),
        vec![(1, 1, 50), (2, 2, 10)],
        "last week stays readable"
    );
    let all = get(&srv, "/v1/leaderboards/total").await?;
    assert_eq!(
        lines(&all)[0],
        (1, 1, 50),
        "the all-time board does not reset"
    );
    let got = srv
        .call(
            Method::GET,
            "/v1/leaderboards/weekly?season=2026-11-24",
            None,
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::BAD_REQUEST,
        "invalid_season",
        "a Tuesday is not a season",
    );
    srv.stop().await;
    Ok(())
}

/// One result line of [`record_game`]: (account, score, stats by name).
type GameLine<'a> = (i64, i64, &'a [(&'a str, i64)]);

/// Stores one match of `game` as a match end would, on every configured board.
async fn record_game(
    srv: &TestServer,
    match_id: &str,
    game: &str,
    lines: &[GameLine<'_>],
) -> anyhow::Result<()> {
    let rows: Vec<ResultRow> = lines
        .iter()
        .enumerate()
        .map(|(i, (account_id, score, stats))| ResultRow {
            account_id: *account_id,
            player_id: i as u32 + 1,
            username: format!("player{account_id}"),
            score: *score,
            stats: stats.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        })
        .collect();
    let boards = srv.server.state.leaderboards.boards().to_vec();
    srv.server
        .state
        .store
        .finish_match(match_id, game, &rows, &boards, srv.clock.now_ms())
        .await?;
    srv.clock.advance(Duration::from_millis(20));
    Ok(())
}

async fn boards_take_only_their_games_results(db: Db) -> anyhow::Result<()> {
    // The default boards: arena's score, score_weekly, kills, best_match; cycles' cycles_score
    // and cycles_cuts.
    let srv = TestServer::start_with(Options {
        db,
        limits: Limits {
            leaderboard_snapshot_lag_ms: 0,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await?;
    let listed = get(&srv, "/v1/leaderboards").await?;
    let described: Vec<(String, String, String)> = listed["leaderboards"]
        .as_array()
        .expect("leaderboards")
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap_or_default().to_string(),
                b["game"].as_str().unwrap_or_default().to_string(),
                b["metric"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for expected in [
        ("score", "arena", "score"),
        ("kills", "arena", "kills"),
        ("cycles_score", "cycles", "score"),
        ("cycles_cuts", "cycles", "cuts"),
    ] {
        let expected = (
            expected.0.to_string(),
            expected.1.to_string(),
            expected.2.to_string(),
        );
        assert!(
            described.contains(&expected),
            "the listing shows {expected:?} with its game and metric: {listed}"
        );
    }

    let arena: &[(&str, i64)] = &[("kills", 2), ("deaths", 1)];
    record_game(&srv, "a1", "arena", &[(1, 10, arena), (2, 5, arena)]).await?;
    record_game(
        &srv,
        "c1",
        "cycles",
        &[
            (1, 100, &[("cuts", 1), ("crashes", 0), ("cells", 50)]),
            (3, 20, &[("cuts", 7), ("crashes", 2), ("cells", 10)]),
            // A line without a cuts stat reaches the score board but not the cuts board.
            (4, 30, &[("crashes", 1)]),
        ],
    )
    .await?;

    assert_eq!(
        lines(&get(&srv, "/v1/leaderboards/score").await?),
        vec![(1, 1, 10), (2, 2, 5)],
        "the arena score board has only the arena match"
    );
    assert_eq!(
        lines(&get(&srv, "/v1/leaderboards/kills").await?),
        vec![(1, 1, 2), (2, 2, 2)],
        "the arena kills board has only arena kills"
    );
    assert_eq!(
        lines(&get(&srv, "/v1/leaderboards/cycles_score").await?),
        vec![(1, 1, 100), (2, 4, 30), (3, 3, 20)],
        "the cycles score board has only the cycles match"
    );
    assert_eq!(
        lines(&get(&srv, "/v1/leaderboards/cycles_cuts").await?),
        vec![(1, 3, 7), (2, 1, 1)],
        "the cuts board ranks by cuts, not score, and skips the line without cuts"
    );

    let stored = srv.server.state.store.match_results("c1").await?;
    let first = stored.first().expect("cycles results stored");
    assert_eq!(
        (first.account_id, first.score, first.stats.clone()),
        (
            1,
            100,
            vec![
                ("cuts".to_string(), 1),
                ("crashes".to_string(), 0),
                ("cells".to_string(), 50)
            ]
        ),
        "stats read back by name in the order they were written"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn boards_take_only_their_games_results_on_sqlite() -> anyhow::Result<()> {
    boards_take_only_their_games_results(Db::Sqlite).await
}

#[tokio::test]
async fn boards_take_only_their_games_results_on_postgres() -> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    boards_take_only_their_games_results(Db::Postgres).await
}

#[tokio::test]
async fn an_admin_removes_a_record_and_nobody_else_can() -> anyhow::Result<()> {
    let srv = start(Db::Sqlite).await?;
    record(&srv, "m", &[(1, 30, 0, 0), (2, 20, 0, 0), (3, 10, 0, 0)]).await?;
    let path = "/v1/admin/leaderboards/total/records/1";
    let got = srv.call(Method::DELETE, path, None, None).await?;
    assert_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "no credential",
    );
    let (_, player) = srv.guest("device-player-lb1").await?;
    let got = srv.call(Method::DELETE, path, Some(&player), None).await?;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", "a player token");

    let key = srv.server.state.admin_key.clone();
    let (status, body) = srv.call(Method::DELETE, path, Some(&key), None).await?;
    assert_eq!(status, StatusCode::OK, "admin removes: {body}");
    let top = get(&srv, "/v1/leaderboards/total").await?;
    assert_eq!(
        lines(&top),
        vec![(1, 2, 20), (2, 3, 10)],
        "the record is gone and ranks close up"
    );
    let rank = get(&srv, "/v1/leaderboards/total/accounts/3").await?;
    assert_eq!(
        rank["rank"].as_u64(),
        Some(2),
        "the rank index follows the removal"
    );
    let got = srv.call(Method::DELETE, path, Some(&key), None).await?;
    assert_error(
        &got,
        StatusCode::NOT_FOUND,
        "record_not_found",
        "removing twice",
    );
    let got = srv
        .call(
            Method::DELETE,
            "/v1/admin/leaderboards/nope/records/1",
            Some(&key),
            None,
        )
        .await?;
    assert_error(
        &got,
        StatusCode::NOT_FOUND,
        "leaderboard_not_found",
        "unknown board",
    );

    let audit = get_with(&srv, "/v1/admin/audit", &key).await?;
    let newest = &audit["entries"][0];
    assert_eq!(
        newest["action"], "leaderboard.remove_record",
        "audited: {audit}"
    );
    assert_eq!(newest["actor"], "admin-key", "by the admin key");
    srv.stop().await;
    Ok(())
}

async fn get_with(srv: &TestServer, path: &str, token: &str) -> anyhow::Result<Value> {
    let (status, body) = srv.call(Method::GET, path, Some(token), None).await?;
    anyhow::ensure!(status == StatusCode::OK, "GET {path}: {status} {body}");
    Ok(body)
}
