//! Store tests on SQLite and (with `TICKWIRE_TEST_POSTGRES_URL`) PostgreSQL: data written at the
//! schema before stats by name (migration 5) survives the migration to games and named stats;
//! an admin's leaderboard record removal and its audit row are written together or not at all;
//! a seat taken while the match is being ended does not outlive the match.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use super::admin::NewAudit;
use super::{MIGRATOR, NewMatch, ResultRow, SeatOutcome, Store, StoreError};
use crate::leaderboards::default_boards;

/// The last migration before games and named stats.
const PREVIOUS_SCHEMA: i64 = 5;

/// Brings the database at `url` to the previous schema, with the real migration texts (written
/// to `dir`) so their checksums match when `Store::connect` later finds them applied.
async fn migrate_to_previous_schema(url: &str, dir: &Path) -> anyhow::Result<AnyPool> {
    for m in MIGRATOR.iter().filter(|m| m.version <= PREVIOUS_SCHEMA) {
        std::fs::write(dir.join(format!("{:04}_previous.sql", m.version)), &*m.sql)?;
    }
    let migrator = Migrator::new(dir).await?;
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

/// What a server at the previous schema wrote: an ended match, its results with kills and
/// deaths columns, and board records (one closed version among them).
async fn write_previous_data(pool: &AnyPool) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO matches (id, map, public, capacity, players, state, created_at, ended_at) \
         VALUES ('m_old', 'arena', 1, 8, 0, 'ended', 1000, 2000)",
    )
    .execute(pool)
    .await?;
    for (account, player, name, score, kills, deaths) in [
        (1i64, 1i64, "ann", 30i64, 5i64, 1i64),
        (2, 2, "bob", 10, 1, 4),
    ] {
        sqlx::query(
            "INSERT INTO match_results (match_id, account_id, player_id, username, score, kills, deaths, ended_at) \
             VALUES ('m_old', $1, $2, $3, $4, $5, $6, 2000)",
        )
        .bind(account)
        .bind(player)
        .bind(name)
        .bind(score)
        .bind(kills)
        .bind(deaths)
        .execute(pool)
        .await?;
    }
    // (board, account, version, name, score, valid_to)
    let records = [
        ("kills", 1i64, 1i64, "ann", 3i64, Some(2000i64)),
        ("kills", 1, 2, "ann", 5, None),
        ("kills", 2, 2, "bob", 1, None),
        ("score", 1, 1, "ann", 30, None),
    ];
    for (board, account, version, name, score, valid_to) in records {
        sqlx::query(
            "INSERT INTO leaderboard_records (board_id, season, account_id, version, username, score, \
             sort_key, achieved_at, valid_from, valid_to, changed_version) \
             VALUES ($1, 0, $2, $3, $4, $5, $6, 1500, 1500, $7, $3)",
        )
        .bind(board)
        .bind(account)
        .bind(version)
        .bind(name)
        .bind(score)
        .bind(-score)
        .bind(valid_to)
        .execute(pool)
        .await?;
    }
    sqlx::query(
        "INSERT INTO leaderboard_versions (board_id, season, version) \
         VALUES ('kills', 0, 2), ('score', 0, 1)",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Every stored record version and board version, in a stable order, as text.
async fn board_dump(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    let mut dump = Vec::new();
    for row in sqlx::query(
        "SELECT board_id, season, account_id, version, username, score, sort_key, achieved_at, \
         valid_from, valid_to, changed_version FROM leaderboard_records \
         ORDER BY board_id, season, account_id, version",
    )
    .fetch_all(pool)
    .await?
    {
        dump.push(format!(
            "{} {} {} {} {} {} {} {} {} {:?} {}",
            row.try_get::<String, _>("board_id")?,
            row.try_get::<i64, _>("season")?,
            row.try_get::<i64, _>("account_id")?,
            row.try_get::<i64, _>("version")?,
            row.try_get::<String, _>("username")?,
            row.try_get::<i64, _>("score")?,
            row.try_get::<i64, _>("sort_key")?,
            row.try_get::<i64, _>("achieved_at")?,
            row.try_get::<i64, _>("valid_from")?,
            row.try_get::<Option<i64>, _>("valid_to")?,
            row.try_get::<i64, _>("changed_version")?,
        ));
    }
    for row in sqlx::query(
        "SELECT board_id, season, version FROM leaderboard_versions ORDER BY board_id, season",
    )
    .fetch_all(pool)
    .await?
    {
        dump.push(format!(
            "version {} {} {}",
            row.try_get::<String, _>("board_id")?,
            row.try_get::<i64, _>("season")?,
            row.try_get::<i64, _>("version")?,
        ));
    }
    Ok(dump)
}

fn arena_line(account_id: i64, username: &str, score: i64, kills: i64, deaths: i64) -> ResultRow {
    ResultRow {
        account_id,
        player_id: account_id as u32,
        username: username.into(),
        score,
        stats: vec![("kills".into(), kills), ("deaths".into(), deaths)],
    }
}

async fn previous_data_survives_the_stats_migration(url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pool = migrate_to_previous_schema(url, dir.path()).await?;
    write_previous_data(&pool).await?;
    let boards_before = board_dump(&pool).await?;
    pool.close().await;

    let store = Store::connect(url).await?;
    assert_eq!(
        store.match_results("m_old").await?,
        vec![
            arena_line(1, "ann", 30, 5, 1),
            arena_line(2, "bob", 10, 1, 4)
        ],
        "old results read back with kills and deaths as stats, in arena's order"
    );
    let old_match = store.match_by_id("m_old").await?.expect("the old match");
    assert_eq!(old_match.game, "arena", "an old match was an arena match");
    let game: String = sqlx::query("SELECT game FROM match_results WHERE account_id = 1")
        .fetch_one(&store.pool)
        .await?
        .try_get("game")?;
    assert_eq!(game, "arena", "an old result line was an arena line");
    assert_eq!(
        board_dump(&store.pool).await?,
        boards_before,
        "board records and versions are untouched, closed versions included"
    );

    // The kept board ids go on where they were: a new arena match adds to the old records, and a
    // cycles match leaves them alone.
    let boards = default_boards();
    store
        .finish_match(
            "m_new",
            "arena",
            &[arena_line(1, "ann", 4, 2, 0)],
            &boards,
            3000,
        )
        .await?;
    let cycles_line = ResultRow {
        account_id: 1,
        player_id: 1,
        username: "ann".into(),
        score: 50,
        stats: vec![
            ("cuts".into(), 9),
            ("crashes".into(), 0),
            ("cells".into(), 40),
        ],
    };
    store
        .finish_match("m_cycles", "cycles", &[cycles_line], &boards, 4000)
        .await?;
    let kills = store
        .board_record("kills", 0, 1)
        .await?
        .expect("kills record");
    assert_eq!(kills.score, 7, "old 5 kills plus 2 new ones");
    let score = store
        .board_record("score", 0, 1)
        .await?
        .expect("score record");
    assert_eq!(
        score.score, 34,
        "old 30 plus the arena match's 4, not cycles' 50"
    );
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn previous_data_survives_the_stats_migration_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    previous_data_survives_the_stats_migration(&Store::sqlite_url(dir.path())).await
}

#[tokio::test]
async fn previous_data_survives_the_stats_migration_on_postgres() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (url, schema) = fresh_postgres_schema(&base).await?;
    let outcome = previous_data_survives_the_stats_migration(&url).await;
    drop_postgres_schema(&base, &schema).await?;
    outcome
}

/// A trigger that makes every insert into (or update of) `table` fail, standing in for a write
/// that fails half-way through a transaction (a full disk, a lost connection, a bug).
async fn refuse_writes(store: &Store, table: &str, postgres: bool) -> anyhow::Result<()> {
    let sql = if postgres {
        format!(
            "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the test refuses writes to {table}'; END $$; \
             CREATE TRIGGER refuse_{table} BEFORE INSERT OR UPDATE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION refuse_{table}();"
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_{table}_insert BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, 'the test refuses writes to {table}'); END; \
             CREATE TRIGGER refuse_{table}_update BEFORE UPDATE ON {table} \
             BEGIN SELECT RAISE(ABORT, 'the test refuses writes to {table}'); END;"
        )
    };
    sqlx::raw_sql(&sql).execute(&store.pool).await?;
    Ok(())
}

async fn allow_writes(store: &Store, table: &str, postgres: bool) -> anyhow::Result<()> {
    let sql = if postgres {
        format!("DROP TRIGGER refuse_{table} ON {table}; DROP FUNCTION refuse_{table}();")
    } else {
        format!("DROP TRIGGER refuse_{table}_insert; DROP TRIGGER refuse_{table}_update;")
    };
    sqlx::raw_sql(&sql).execute(&store.pool).await?;
    Ok(())
}

/// Every audit row, oldest first, as (action, target).
async fn audit_rows(store: &Store) -> anyhow::Result<Vec<(String, String)>> {
    let mut page = store.audit_page(None, 100).await?;
    page.reverse();
    Ok(page.into_iter().map(|e| (e.action, e.target)).collect())
}

/// Account 1's score record is still there at 30, the board's version is still `version`, and
/// the audit log is empty.
async fn unchanged(store: &Store, version: i64, what: &str) -> anyhow::Result<()> {
    let record = store.board_record("score", 0, 1).await?;
    anyhow::ensure!(
        record.as_ref().map(|r| r.score) == Some(30),
        "{what}: the record is still there: {record:?}"
    );
    anyhow::ensure!(
        store.board_version("score", 0).await? == version,
        "{what}: the board's version did not move"
    );
    let rows = audit_rows(store).await?;
    anyhow::ensure!(rows.is_empty(), "{what}: no audit row: {rows:?}");
    Ok(())
}

async fn a_record_removal_and_its_audit_row_commit_together(
    url: &str,
    postgres: bool,
) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    let boards = default_boards();
    store
        .finish_match(
            "m_1",
            "arena",
            &[
                arena_line(1, "ann", 30, 5, 1),
                arena_line(2, "bob", 10, 1, 4),
            ],
            &boards,
            1000,
        )
        .await?;
    let version = store.board_version("score", 0).await?;
    let audit = NewAudit {
        at: 2000,
        actor: "admin-key",
        action: "leaderboard.remove_record",
        target: "leaderboard:score:all:1",
        detail: "{}",
    };
    // The audit row is the transaction's last write: when it fails, the removal before it must
    // not stay behind (it did when the log was written after the removal's own commit).
    refuse_writes(&store, "admin_audit", postgres).await?;
    let failed = store.remove_board_record("score", 0, 1, 2000, &audit).await;
    assert!(
        matches!(failed, Err(StoreError::Db(_))),
        "the refused audit row fails the removal: {failed:?}"
    );
    unchanged(&store, version, "audit row refused").await?;
    allow_writes(&store, "admin_audit", postgres).await?;

    // And the other way round: a removal that fails writes no audit row.
    refuse_writes(&store, "leaderboard_records", postgres).await?;
    let failed = store.remove_board_record("score", 0, 1, 2000, &audit).await;
    assert!(
        matches!(failed, Err(StoreError::Db(_))),
        "the refused removal fails: {failed:?}"
    );
    unchanged(&store, version, "removal refused").await?;
    allow_writes(&store, "leaderboard_records", postgres).await?;

    // Nothing to remove: nothing is written, not even a version.
    assert!(
        !store
            .remove_board_record("score", 0, 3, 2000, &audit)
            .await?,
        "account 3 has no record"
    );
    unchanged(&store, version, "no record to remove").await?;

    assert!(
        store
            .remove_board_record("score", 0, 1, 2000, &audit)
            .await?,
        "the removal goes through once writes are allowed"
    );
    assert_eq!(store.board_record("score", 0, 1).await?, None, "removed");
    assert_eq!(
        store.board_version("score", 0).await?,
        version + 1,
        "one version for the removal"
    );
    assert_eq!(
        audit_rows(&store).await?,
        vec![(
            "leaderboard.remove_record".to_string(),
            "leaderboard:score:all:1".to_string()
        )],
        "exactly one audit row, for the removal that happened"
    );
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn a_record_removal_and_its_audit_row_commit_together_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    a_record_removal_and_its_audit_row_commit_together(&Store::sqlite_url(dir.path()), false).await
}

#[tokio::test]
async fn a_record_removal_and_its_audit_row_commit_together_on_postgres() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (url, schema) = fresh_postgres_schema(&base).await?;
    let outcome = a_record_removal_and_its_audit_row_commit_together(&url, true).await;
    drop_postgres_schema(&base, &schema).await?;
    outcome
}

/// A player takes a seat while the match's end is being written (`finish_match`'s writes, made
/// here by hand so the seat can come in between): the seat must not survive the end. On
/// PostgreSQL the seat's check of the match state reads a snapshot in which the match is still
/// live; the seat count's UPDATE then waits for the end's row lock and must see the match ended.
/// (Found by tests/tests/crash.rs: an ended match kept 15 seats and a player count of 15.) On
/// SQLite the seat waits for the end's write lock, and sees the match ended from the start.
async fn a_seat_taken_while_the_match_ends_does_not_outlive_it(
    url: &str,
    postgres: bool,
) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store
        .create_match_seated(
            NewMatch {
                id: "m_race",
                game: "arena",
                map: "arena",
                public: true,
                capacity: 16,
                node_id: None,
                created_by: None,
                created_at: 1000,
            },
            1,
        )
        .await?;
    store.mark_running("m_race", 5000).await?;

    let mut end = store.pool.begin().await?;
    sqlx::query(
        "UPDATE matches SET state = 'ended', ended_at = 2000, players = 0 WHERE id = 'm_race'",
    )
    .execute(&mut *end)
    .await?;
    sqlx::query("DELETE FROM match_seats WHERE match_id = 'm_race'")
        .execute(&mut *end)
        .await?;
    let seat = tokio::spawn({
        let store = store.clone();
        async move { store.take_seat("m_race", 2, 1500).await }
    });
    if postgres {
        // The seat has read its snapshot and waits for the end's lock on the match row.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let waiting: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE matches SET players%'",
            )
            .fetch_one(&store.pool)
            .await?
            .try_get("n")?;
            if waiting > 0 {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the seat never waited for the match's end"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    end.commit().await?;

    assert_eq!(
        seat.await??,
        SeatOutcome::Ended,
        "the seat finds the match ended"
    );
    let row = sqlx::query(
        "SELECT players, (SELECT COUNT(*) FROM match_seats WHERE match_id = 'm_race') AS seats \
         FROM matches WHERE id = 'm_race'",
    )
    .fetch_one(&store.pool)
    .await?;
    assert_eq!(
        (
            row.try_get::<i64, _>("players")?,
            row.try_get::<i64, _>("seats")?
        ),
        (0, 0),
        "an ended match holds no seat"
    );
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn a_seat_taken_while_the_match_ends_does_not_outlive_it_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    a_seat_taken_while_the_match_ends_does_not_outlive_it(&Store::sqlite_url(dir.path()), false)
        .await
}

#[tokio::test]
async fn a_seat_taken_while_the_match_ends_does_not_outlive_it_on_postgres() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (url, schema) = fresh_postgres_schema(&base).await?;
    let outcome = a_seat_taken_while_the_match_ends_does_not_outlive_it(&url, true).await;
    drop_postgres_schema(&base, &schema).await?;
    outcome
}

/// Replays: bytes of every value round-trip unchanged (a BLOB on SQLite, a BYTEA on
/// PostgreSQL), a second save replaces the first, a replay needs its match, and the prune
/// deletes only those stored before its cut-off.
async fn replays_are_saved_loaded_and_pruned(url: &str) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    for (id, created_at) in [("m_old", 1000), ("m_new", 2000)] {
        store
            .create_match(NewMatch {
                id,
                game: "arena",
                map: "arena",
                public: true,
                capacity: 16,
                node_id: None,
                created_by: None,
                created_at,
            })
            .await?;
    }
    let every_byte: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
    store.save_replay("m_old", b"first", 1000).await?;
    store.save_replay("m_old", &every_byte, 1000).await?;
    store.save_replay("m_new", &[0, 1, 2], 5000).await?;
    assert_eq!(
        store.load_replay("m_old").await?.as_deref(),
        Some(&every_byte[..]),
        "3 MiB of every byte value read back as written, the second save replacing the first"
    );
    assert_eq!(store.load_replay("m_none").await?, None, "no such match");
    assert_eq!(store.load_replay("m_\0").await?, None, "a NUL in the id");
    assert!(
        store.save_replay("m_none", b"x", 1000).await.is_err(),
        "a replay of a match that does not exist is refused"
    );

    assert_eq!(
        store.prune_replays(5000).await?,
        1,
        "one stored before 5000"
    );
    assert_eq!(store.load_replay("m_old").await?, None, "pruned");
    assert_eq!(
        store.load_replay("m_new").await?.as_deref(),
        Some(&[0u8, 1, 2][..]),
        "kept: stored at the cut-off, not before it"
    );
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn replays_are_saved_loaded_and_pruned_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    replays_are_saved_loaded_and_pruned(&Store::sqlite_url(dir.path())).await
}

#[tokio::test]
async fn replays_are_saved_loaded_and_pruned_on_postgres() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (url, schema) = fresh_postgres_schema(&base).await?;
    let outcome = replays_are_saved_loaded_and_pruned(&url).await;
    drop_postgres_schema(&base, &schema).await?;
    outcome
}

#[test]
fn both_backends_have_the_same_migrations_in_one_numbering() {
    use super::{Backend, migrations};
    let versions =
        |backend| -> Vec<i64> { migrations(backend).iter().map(|m| m.version).collect() };
    let sqlite = versions(Backend::Sqlite);
    assert_eq!(
        sqlite,
        versions(Backend::Postgres),
        "the same versions on both"
    );
    assert!(
        sqlite.windows(2).all(|w| w[0] < w[1]),
        "no backend's own migration takes a shared one's number: {sqlite:?}"
    );
    let descriptions = |backend| -> Vec<String> {
        migrations(backend)
            .iter()
            .map(|m| m.description.to_string())
            .collect()
    };
    assert_eq!(
        descriptions(Backend::Sqlite),
        descriptions(Backend::Postgres),
        "each backend's own migration is named as its twin"
    );
}

/// The PostgreSQL URL for tests, from `TICKWIRE_TEST_POSTGRES_URL`; skipped without it, except
/// under `CI=true`, where PostgreSQL must be tested (as in the integration tests' harness).
fn postgres_url() -> Option<String> {
    match std::env::var("TICKWIRE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "TICKWIRE_TEST_POSTGRES_URL is not set; under CI=true PostgreSQL tests must run"
            );
            eprintln!("skipping: TICKWIRE_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A private schema, so this test neither sees nor disturbs other tests' tables.
async fn fresh_postgres_schema(base: &str) -> anyhow::Result<(String, String)> {
    use sqlx::Connection;
    let schema = format!("tw_store_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    ))
}

async fn drop_postgres_schema(base: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
