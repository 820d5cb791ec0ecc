//! `bot-client`: runs the bots, shows live progress, prints a summary table, writes the JSON
//! report, and exits non-zero when a threshold given on the command line is broken.

use std::process::ExitCode;

use anyhow::Context;
use bot_client::{Args, RunOptions, Thresholds};
use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

// Thousands of bots decode and apply every snapshot, allocating per message: glibc's malloc was
// about a third of the bots' profile at 3,000 bots, and with mimalloc the same run went from
// 0.86–0.91 delivery to 1.0 on the same server build (BENCHMARKS.md, issue 12).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let stop = CancellationToken::new();
    let on_ctrl_c = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping: the bots leave and the report is written");
            on_ctrl_c.cancel();
        }
    });
    let options = RunOptions {
        stop,
        progress: !args.quiet,
        // The binary plays the shipped game `--game` names.
        game: None,
    };
    let report = bot_client::run_with(args.clone(), options)
        .await
        .context("the run could not start")?;

    print!("{}", report.summary_table());
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).context("encoding the report")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the report to {}", path.display()))?;
        println!("report written to {}", path.display());
    }
    let breaches = report.breaches(&Thresholds::from(&args));
    if breaches.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("thresholds broken:");
    for breach in &breaches {
        eprintln!("  {breach}");
    }
    Ok(ExitCode::FAILURE)
}
