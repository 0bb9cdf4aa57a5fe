//! A real service process to measure: built in release mode, started on a free port with durable storage
//! and authentication on, its resident memory read from /proc.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

async fn spawn(binary: &Path, data_dir: &Path, listen: &str, extra: &[String]) -> (Child, SocketAddr) {
    let name = binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut child = Command::new(binary)
        .args(["--listen", listen, "--dev-credentials", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        // PEERING_BENCH_LOG=debug shows the services' logs (timings of commits and peer messages).
        .env("RUST_LOG", std::env::var("PEERING_BENCH_LOG").unwrap_or_else(|_| "error".to_owned()))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("{name} has no stdout"));
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .ok()
        .and_then(|l| l.ok().flatten())
        .unwrap_or_else(|| panic!("{name} did not announce its address"));
    let addr = line.rsplit(' ').next().and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

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
    /// The command line, to start it again on the same address and data.
    binary: PathBuf,
    data_dir: PathBuf,
    extra: Vec<String>,
}

impl Service {
    /// Starts `binary` as account A with the development keys, on `data_dir`, with `extra` flags.
    pub async fn start(bin_dir: &Path, binary: &str, data_dir: &Path, listen: &str, extra: &[String]) -> Self {
        let binary = bin_dir.join(binary);
        let (child, addr) = spawn(&binary, data_dir, listen, extra).await;
        Self { addr, child, binary, data_dir: data_dir.to_owned(), extra: extra.to_vec() }
    }

    /// kill -9, then the same command again on the same address; returns when it announced its address.
    pub async fn crash_and_restart(&mut self) {
        let _ = self.child.kill().await;
        let (child, _) = spawn(&self.binary, &self.data_dir, &self.addr.to_string(), &self.extra).await;
        self.child = child;
    }

    /// Resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.memory_kib("VmRSS:")
    }

    /// The most resident memory since the process started, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.memory_kib("VmHWM:")
    }

    fn memory_kib(&self, field: &str) -> u64 {
        let Some(pid) = self.child.id() else { return 0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// kill -9.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
