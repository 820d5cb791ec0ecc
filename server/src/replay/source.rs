//! Where `server replay` reads a replay from (a file, or a server's
//! `GET /v1/matches/{match_id}/replay`), and the check it runs on it.

use std::io::Write;
use std::path::Path;

use super::format::{MAX_REPLAY_BYTES, Replay};
use super::verify::{ReplayError, Verified, verify};
use crate::assets::AssetsError;
use crate::game::GameSet;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url}: {status}: {message}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
        message: String,
    },
    #[error("{0} is larger than a replay can be")]
    TooLarge(String),
    #[error("loading the games: {0}")]
    Assets(#[from] AssetsError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("the re-simulation failed: {0}")]
    Task(String),
    #[error("writing the summary: {0}")]
    Output(std::io::Error),
}

/// The bytes of the replay at `source`: an `http://` or `https://` URL, else a file path.
/// `insecure` accepts any certificate (a development server's self-signed one).
pub async fn load(source: &str, insecure: bool) -> Result<Vec<u8>, SourceError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return fetch(source, insecure).await;
    }
    let too_large = std::fs::metadata(source).is_ok_and(|m| m.len() > MAX_REPLAY_BYTES as u64);
    if too_large {
        return Err(SourceError::TooLarge(source.to_string()));
    }
    std::fs::read(source).map_err(|e| SourceError::File {
        path: source.to_string(),
        source: e,
    })
}

async fn fetch(url: &str, insecure: bool) -> Result<Vec<u8>, SourceError> {
    let http = |source| SourceError::Http {
        url: url.to_string(),
        source,
    };
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(insecure)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(http)?;
    let mut response = client.get(url).send().await.map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        // The API answers errors as {"error": {"code", "message"}}; anything else as it came.
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(body);
        return Err(SourceError::Status {
            url: url.to_string(),
            status,
            message,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if bytes.len() + chunk.len() > MAX_REPLAY_BYTES {
            return Err(SourceError::TooLarge(url.to_string()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `server replay SOURCE`: loads the replay, re-simulates it with the games in `assets` and
/// writes what was checked to `out`. An error names the first tick that differs.
pub async fn check(
    source: &str,
    insecure: bool,
    games: &GameSet,
    assets: &Path,
    out: &mut dyn Write,
) -> Result<Verified, SourceError> {
    let bytes = load(source, insecure).await?;
    let replay = Replay::decode(&bytes).map_err(ReplayError::from)?;
    let games = games.load(assets)?;
    let players = replay.players().count();
    let ops = replay.ops.len();
    let write =
        |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(SourceError::Output);
    write(
        out,
        format!(
            "replay of match {}: {} on {}, seed {:016x}, {} Hz, {} bytes",
            replay.match_id,
            replay.game,
            replay.map,
            replay.seed,
            replay.tick_rate,
            bytes.len()
        ),
    )?;
    write(
        out,
        format!(
            "  {players} joins, {ops} recorded operations, a state hash every {} ticks",
            replay.hash_interval
        ),
    )?;
    // Re-simulating a long match takes a while: off the async threads.
    let verified = tokio::task::spawn_blocking(move || verify(&replay, &games))
        .await
        .map_err(|e| SourceError::Task(e.to_string()))??;
    write(out, format!("  ticks           {}", verified.ticks))?;
    write(
        out,
        format!(
            "  re-applied      joins {}, leaves {}, inputs {}",
            verified.joins, verified.leaves, verified.inputs
        ),
    )?;
    write(
        out,
        format!(
            "  hashes checked  {} (every recorded tick and the final one), all equal",
            verified.hashes_checked
        ),
    )?;
    write(
        out,
        format!("  final hash      {:016x}", verified.final_hash),
    )?;
    Ok(verified)
}
