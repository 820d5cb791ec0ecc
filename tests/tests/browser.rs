//! The browser client in headless Chromium against a real server with bots playing. For each
//! shipped game, `assets/web/e2e/play.mjs` opens `/?play=guest&game=...`, presses keys, and
//! checks on the page that its own player moved and is drawn where the page says, that the bots'
//! players are drawn, and that snapshot checksums matched; then it ends the match (admin key)
//! and sees the results, and opens the leaderboards page. `assets/web/e2e/watch.mjs` watches the
//! bots' match from the lobby's match list as a spectator (entities drawn, no input sent, an ack
//! per snapshot), ends it, and plays its replay at 8× to the end. Screenshots land in
//! `target/browser/`.
//!
//! Needs Debian's `chromium` and the npm packages of `assets/web` (`.ci/run` installs both);
//! without them the test is skipped, except under `CI`, where it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bot_client::{Args, Report, RunOptions};
use tests::TestServer;
use tokio::process::Command;
use tokio::sync::Mutex;
use tokio::time::timeout;

const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser test at a time: each starts a server, bots and Chromium, which is all a small
/// machine can take at once.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

/// Whether the browser test can run here; under CI a missing piece is an error.
fn ready(root: &Path) -> anyhow::Result<bool> {
    let chromium = Path::new(CHROMIUM).is_file();
    let playwright = root
        .join("assets/web/node_modules/playwright-core/package.json")
        .is_file();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if chromium && playwright && node {
        return Ok(true);
    }
    let missing = format!(
        "chromium at {CHROMIUM}: {chromium}, playwright-core in assets/web/node_modules: \
         {playwright}, node: {node}"
    );
    anyhow::ensure!(
        std::env::var_os("CI").is_none(),
        "the browser test needs {missing}"
    );
    eprintln!("skipped: {missing} (apt-get install chromium; cd assets/web && npm ci)");
    Ok(false)
}

/// Runs `assets/web/e2e/<script> BASE GAME SHOT` while three bots play `game` (started first,
/// so the page finds them; stopped when the page is done). Answers the last line the page
/// printed, as JSON, and the bots' report.
async fn page_with_bots(
    root: &Path,
    srv: &TestServer,
    script: &str,
    game: &str,
    shot: &Path,
) -> anyhow::Result<(serde_json::Value, Report)> {
    let stop = tokio_util::sync::CancellationToken::new();
    let mut args = Args::new(&srv.base);
    args.bots = 3;
    args.duration = Duration::from_secs(600);
    args.game = game.to_string();
    args.seed = 11;
    args.insecure = true;
    let options = RunOptions {
        stop: stop.clone(),
        ..RunOptions::default()
    };
    let bots = tokio::spawn(bot_client::run_with(args, options));

    let run = Command::new("node")
        .arg(format!("e2e/{script}"))
        .arg(&srv.base)
        .arg(game)
        .arg(shot)
        .current_dir(root.join("assets/web"))
        // The page ends its match with the admin key once it played, to see the results.
        .env("TICKWIRE_ADMIN_KEY", &srv.server.state.admin_key)
        .kill_on_drop(true)
        .output();
    let out = timeout(Duration::from_secs(300), run).await;
    stop.cancel();
    let report = timeout(Duration::from_secs(60), bots).await???;
    let out = out??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "{script} {game}: the page failed:\n{stdout}\n{}\nthe bots: {} snapshots, errors {:?}",
        String::from_utf8_lossy(&out.stderr),
        report.snapshots_received,
        report.errors
    );
    let seen = serde_json::from_str(
        stdout
            .lines()
            .last()
            .ok_or_else(|| anyhow::anyhow!("{script} {game}: no report"))?,
    )?;
    Ok((seen, report))
}

fn shots(root: &Path) -> anyhow::Result<PathBuf> {
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots)?;
    Ok(shots)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_plays_both_games_in_headless_chromium() -> anyhow::Result<()> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if !ready(&root)? {
        return Ok(());
    }
    let _one = ONE_BROWSER.lock().await;
    let shots = shots(&root)?;
    let srv = TestServer::start().await?;

    for game in ["arena", "cycles"] {
        let shot = shots.join(format!("{game}.png"));
        let (seen, report) = page_with_bots(&root, &srv, "play.mjs", game, &shot).await?;
        assert_eq!(seen["game"], game, "{game}: the page played it: {seen}");
        assert_eq!(seen["desyncs"], 0, "{game}: no desync on the page: {seen}");
        assert!(
            seen["checksumsVerified"].as_u64().unwrap_or(0) >= 3,
            "{game}: the page verified checksums: {seen}"
        );
        assert!(shot.is_file(), "{game}: a screenshot at {}", shot.display());
        assert_eq!(report.desyncs, 0, "{game}: the bots saw no desync");
        assert!(
            report.checksums_verified > 0,
            "{game}: the bots verified checksums"
        );
        eprintln!("{game}: {seen}");
    }
    srv.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spectator_watches_a_match_from_the_list_then_replays_it_at_8x() -> anyhow::Result<()> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if !ready(&root)? {
        return Ok(());
    }
    let _one = ONE_BROWSER.lock().await;
    let shots = shots(&root)?;
    let srv = TestServer::start().await?;

    // What each game's view counts as a player drawn.
    for (game, drawn) in [("arena", "players"), ("cycles", "cycles")] {
        let shot = shots.join(format!("{game}-watch.png"));
        let (seen, report) = page_with_bots(&root, &srv, "watch.mjs", game, &shot).await?;
        eprintln!("{game}: {seen}");
        let watch = &seen["watch"];
        assert_eq!(watch["badge"], true, "{game}: a spectating badge: {seen}");
        assert_eq!(
            watch["playerId"], 0,
            "{game}: a spectator is no player: {seen}"
        );
        assert_eq!(watch["inputsSent"], 0, "{game}: no input counted: {seen}");
        assert_eq!(
            watch["wire"]["inputs"], 0,
            "{game}: no input on the wire: {seen}"
        );
        let snapshots = watch["snapshots"].as_u64().unwrap_or(0);
        assert!(snapshots >= 60, "{game}: snapshots watched: {seen}");
        assert!(
            watch["wire"]["acks"].as_u64().unwrap_or(0) >= snapshots / 2,
            "{game}: the snapshots acked: {seen}"
        );
        assert!(
            watch["drawn"][drawn].as_u64().unwrap_or(0) >= 1,
            "{game}: the bots drawn: {seen}"
        );
        assert_eq!(
            watch["desyncs"], 0,
            "{game}: no desync while watching: {seen}"
        );
        assert!(
            seen["follow"]["player"].as_u64().unwrap_or(0) > 0,
            "{game}: a player followed: {seen}"
        );
        assert!(shot.is_file(), "{game}: a screenshot at {}", shot.display());

        let replay = &seen["replay"];
        let length = replay["length"].as_u64().unwrap_or(0);
        assert!(length > 30, "{game}: a replay with its ticks: {seen}");
        assert_eq!(
            replay["played"], length,
            "{game}: played to its end: {seen}"
        );
        assert_eq!(replay["speed"], 8, "{game}: at 8×: {seen}");
        assert_eq!(
            replay["desyncs"], 0,
            "{game}: no desync in the replay: {seen}"
        );
        assert!(
            replay["results"].as_array().is_some_and(|r| !r.is_empty()),
            "{game}: the replay ends with results: {seen}"
        );
        // The replay re-simulates the match from its seed and inputs: the same end.
        assert_eq!(
            replay["scoresMatch"], true,
            "{game}: the replay's scores are the match's: {seen}"
        );
        assert_eq!(
            seen["listedForReplay"], true,
            "{game}: the lobby lists the watched match to replay: {seen}"
        );
        assert_eq!(report.desyncs, 0, "{game}: the bots saw no desync");
    }
    srv.stop().await;
    Ok(())
}
