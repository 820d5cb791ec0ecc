//! The browser client in headless Chromium against a real server with bots playing: for each
//! shipped game, `assets/web/e2e/play.mjs` opens `/?play=guest&game=...`, presses keys, and
//! checks on the page that its own player moved and is drawn where the page says, that the bots'
//! players are drawn, and that snapshot checksums matched; then it ends the match (admin key)
//! and sees the results, and opens the leaderboards page. Screenshots land in `target/browser/`.
//!
//! Needs Debian's `chromium` and the npm packages of `assets/web` (`.ci/run` installs both);
//! without them the test is skipped, except under `CI`, where it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bot_client::{Args, RunOptions};
use tests::TestServer;
use tokio::process::Command;
use tokio::time::timeout;

const CHROMIUM: &str = "/usr/bin/chromium";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_plays_both_games_in_headless_chromium() -> anyhow::Result<()> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if !ready(&root)? {
        return Ok(());
    }
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots)?;
    let srv = TestServer::start().await?;

    for game in ["arena", "cycles"] {
        // Bots first, so the page's quick-join lands among them; they stop when the page is done.
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

        let shot = shots.join(format!("{game}.png"));
        let run = Command::new("node")
            .arg("e2e/play.mjs")
            .arg(&srv.base)
            .arg(game)
            .arg(&shot)
            .current_dir(root.join("assets/web"))
            // The page ends its match with the admin key once it played, to see the results.
            .env("TICKWIRE_ADMIN_KEY", &srv.server.state.admin_key)
            .kill_on_drop(true)
            .output();
        let out = timeout(Duration::from_secs(240), run).await;
        stop.cancel();
        let report = timeout(Duration::from_secs(60), bots).await???;
        let out = out??;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{game}: the page did not play:\n{stdout}\n{}\nthe bots: {} snapshots, errors {:?}",
            String::from_utf8_lossy(&out.stderr),
            report.snapshots_received,
            report.errors
        );
        let seen: serde_json::Value = serde_json::from_str(
            stdout
                .lines()
                .last()
                .ok_or_else(|| anyhow::anyhow!("no report"))?,
        )?;
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
