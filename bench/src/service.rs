//! A real service process to measure: built in release mode, started on a free port with durable storage
//! and authentication on, its resident memory read from /proc.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Builds the service binaries (release) and returns their directory.
pub fn build() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "initiator-svc", "-p", "acceptor-svc"])
        .status()
        .unwrap_or_else(|e| panic!("run cargo build: {e}"));
    assert!(status.success(), "building the service binaries failed");
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("own path: {e}"));
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Run as target/release/peering-bench; under `cargo run` without --release the services are still in
    // target/release.
    if dir.ends_with("release") { dir } else { dir.parent().map(|t| t.join("release")).unwrap_or(dir) }
}

#[derive(Debug)]
pub struct Service {
    pub addr: SocketAddr,
    child: Child,
}

impl Service {
    /// Starts `binary` as account A with the development keys, on `data_dir`, with `extra` flags.
    pub async fn start(bin_dir: &Path, binary: &str, data_dir: &Path, listen: &str, extra: &[String]) -> Self {
        let mut child = Command::new(bin_dir.join(binary))
            .args(["--listen", listen, "--dev-credentials", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("{binary} has no stdout"));
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .ok()
            .and_then(|l| l.ok().flatten())
            .unwrap_or_else(|| panic!("{binary} did not announce its address"));
        let addr = line.rsplit(' ').next().and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { addr, child }
    }

    /// Resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let Some(pid) = self.child.id() else { return 0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// kill -9.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
