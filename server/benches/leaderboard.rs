//! Leaderboard reads and writes at a million records, on SQLite and (when
//! `TICKWIRE_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! `cargo bench -p server --bench leaderboard` (set `LB_RECORDS` for another board size)
//!
//! Seeds one board with `LB_RECORDS` records (default 1,000,000), starts a real server (plain
//! HTTP on loopback) and reports p50/p99 of top-100, around-me for mid-table accounts and one
//! account's rank, each over HTTP with a keep-alive client, then the write throughput of match
//! results (16 players, every configured board) through the same function a match end calls.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use server::Server;
use server::clock::Clock;
use server::config::{Config, Limits, Role, TlsMode};
use server::leaderboards::default_boards;
use server::store::{ResultRow, Store};

const SAMPLES: usize = 1000;

struct Figures {
    backend: &'static str,
    seed_s: f64,
    top: Histogram<u64>,
    around: Histogram<u64>,
    rank: Histogram<u64>,
    first_rank_ms: f64,
    matches_per_s: f64,
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

async fn run(
    backend: &'static str,
    database_url: Option<String>,
    records: i64,
) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        database_url,
        tls: TlsMode::Off,
        role: Role::All,
        assets: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets")),
        public_url: None,
        allowed_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        diagnostics: false,
        agones: false,
        cluster: Default::default(),
        admin_key: None,
        signing_key: None,
        limits: Limits::default(),
        leaderboards: default_boards(),
        replays: Default::default(),
        config_file: None,
        games: server::game::GameSet::shipped(),
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let srv = Server::start_on(config, listener, Clock::default()).await?;
    let store: Store = srv.state.store.clone();
    let board = srv
        .state
        .leaderboards
        .get("score")
        .expect("score board")
        .clone();

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let started = Instant::now();
    let now = srv.state.clock.now_ms();
    let mut batch = Vec::with_capacity(50_000);
    for id in 1..=records {
        batch.push((
            id,
            format!("p{id}"),
            rng.random_range(0..100_000i64),
            now - rng.random_range(0..1_000_000_000i64),
        ));
        if batch.len() == 50_000 {
            store.import_board_records(&board, 0, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.import_board_records(&board, 0, &batch).await?;
    }
    store.analyze().await?;
    let seed_s = started.elapsed().as_secs_f64();
    eprintln!("{backend}: seeded {records} records in {seed_s:.1} s");

    let http = reqwest::Client::builder().build()?;
    let base = format!("http://{}", srv.addr);
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let t = Instant::now();
            let resp = http.get(&url).send().await?;
            anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
            resp.bytes().await?;
            anyhow::Ok(t.elapsed())
        }
    };
    // The first rank read builds the rank index from the database.
    let first_rank_ms = get(format!("/v1/leaderboards/score/accounts/{}", records / 2))
        .await?
        .as_secs_f64()
        * 1000.0;

    let mut top = Histogram::<u64>::new(3)?;
    let mut around = Histogram::<u64>::new(3)?;
    let mut rank = Histogram::<u64>::new(3)?;
    let record =
        |h: &mut Histogram<u64>, d: Duration| h.record(d.as_micros() as u64).expect("in range");
    for _ in 0..SAMPLES {
        record(
            &mut top,
            get("/v1/leaderboards/score?limit=100".into()).await?,
        );
        let mid = rng.random_range(records / 4..records * 3 / 4).max(1);
        record(
            &mut around,
            get(format!("/v1/leaderboards/score/around/{mid}?limit=11")).await?,
        );
        let any = rng.random_range(1..=records);
        record(
            &mut rank,
            get(format!("/v1/leaderboards/score/accounts/{any}")).await?,
        );
    }

    // Writes: whole match results (16 lines) on every board, as a match end stores them.
    let boards = srv.state.leaderboards.boards().to_vec();
    let matches = 200;
    let started = Instant::now();
    for m in 0..matches {
        let rows: Vec<ResultRow> = (0..16)
            .map(|p| ResultRow {
                account_id: rng.random_range(1..=records),
                player_id: p + 1,
                username: "bench".into(),
                score: rng.random_range(0..50),
                stats: vec![
                    ("kills".into(), rng.random_range(0..10)),
                    ("deaths".into(), rng.random_range(0..10)),
                ],
            })
            .collect();
        store
            .finish_match(
                &format!("bench-{m}"),
                "arena",
                &rows,
                &boards,
                srv.state.clock.now_ms(),
            )
            .await?;
    }
    let matches_per_s = f64::from(matches) / started.elapsed().as_secs_f64();
    srv.shutdown();
    srv.wait().await;
    Ok(Figures {
        backend,
        seed_s,
        top,
        around,
        rank,
        first_rank_ms,
        matches_per_s,
    })
}

fn main() -> anyhow::Result<()> {
    // Criterion passes flags like --bench; this harness takes none.
    let records: i64 = std::env::var("LB_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut all = vec![runtime.block_on(run("sqlite", None, records))?];
    match std::env::var("TICKWIRE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let (schema_url, schema) = runtime.block_on(fresh_schema(&url))?;
            let figures = runtime.block_on(run("postgres", Some(schema_url), records));
            runtime.block_on(drop_schema(&url, &schema))?;
            all.push(figures?);
        }
        _ => eprintln!("PostgreSQL skipped: TICKWIRE_TEST_POSTGRES_URL is not set"),
    }
    println!(
        "\nleaderboard at {records} records ({SAMPLES} samples each, HTTP on loopback, sequential)"
    );
    println!(
        "| backend | seed | top-100 p50 / p99 | around-me p50 / p99 | rank p50 / p99 | first rank (index build) | match results written |"
    );
    println!("|---|---|---|---|---|---|---|");
    for f in &all {
        println!(
            "| {} | {:.0} s | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.0} ms | {:.0} matches/s ({:.0} records/s) |",
            f.backend,
            f.seed_s,
            ms(&f.top, 0.5),
            ms(&f.top, 0.99),
            ms(&f.around, 0.5),
            ms(&f.around, 0.99),
            ms(&f.rank, 0.5),
            ms(&f.rank, 0.99),
            f.first_rank_ms,
            f.matches_per_s,
            f.matches_per_s * 16.0 * 4.0
        );
    }
    Ok(())
}

async fn fresh_schema(base: &str) -> anyhow::Result<(String, String)> {
    use sqlx::Connection;
    let schema = format!("tw_bench_{:08x}", rand::random::<u32>());
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    ))
}

async fn drop_schema(base: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut conn)
        .await?;
    Ok(())
}
