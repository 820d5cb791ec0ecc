//! The server binary as a child process: for tests that kill it (SIGKILL) or run several nodes
//! side by side. (Cargo names the binary only to integration tests, so they pass its path.)

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long a child gets to start, to become ready and to die.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running server process.
pub struct ServerProcess {
    pub process: tokio::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ServerProcess {
    /// Starts `binary` with `args` (which must include `--no-tls` and a `--listen` of port 0 on
    /// loopback), its log appended to `log`, and waits until it answers `/readyz`. Only the
    /// arguments and `env` configure it, whatever this process's environment holds.
    pub async fn start(
        binary: &Path,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
        env: &[(&str, &str)],
        log: &Path,
        http: &reqwest::Client,
    ) -> anyhow::Result<ServerProcess> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut cmd = tokio::process::Command::new(binary);
        cmd.args(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TICKWIRE_") {
                cmd.env_remove(name);
            }
        }
        cmd.env("TICKWIRE_LOG", "warn");
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        let mut process = cmd.spawn().context("starting the server binary")?;
        let stdout = process.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // main.rs prints `  REST      http://127.0.0.1:<port>/v1   (OpenAPI: ...)` once it listens.
        let base = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.trim().strip_prefix("REST") {
                    let url = rest.split_whitespace().next().context("REST line")?;
                    return Ok(url.trim_end_matches("/v1").to_string());
                }
            }
            anyhow::bail!("the server exited before it listened")
        })
        .await
        .context("the server did not say where it listens")??;
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let child = ServerProcess { process, base };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = http
                .get(format!("{}/readyz", child.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return Ok(child);
            }
            anyhow::ensure!(Instant::now() < deadline, "the server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (what `Child::start_kill` sends on Unix): no shutdown, no flush, no goodbye.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        use std::os::unix::process::ExitStatusExt;
        if let Some(status) = self.process.try_wait()? {
            anyhow::bail!("the server died on its own before the kill: {status}");
        }
        self.process.start_kill()?;
        let status = tokio::time::timeout(PATIENCE, self.process.wait()).await??;
        anyhow::ensure!(
            status.signal() == Some(9),
            "the server ended by SIGKILL, not {status}"
        );
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
