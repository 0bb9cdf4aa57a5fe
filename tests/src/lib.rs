//! Harness for scenario tests: runs the real service binaries on ephemeral loopback ports, with their
//! own data directories, and hands out gRPC clients to them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use shared::api::v1::billing_service_client::BillingServiceClient;
use shared::api::v1::router_interface_service_client::RouterInterfaceServiceClient;
use shared::api::v1::simulation_service_client::SimulationServiceClient;
use shared::api::v1::vpc_service_client::VpcServiceClient;
use shared::auth::{AccessKey, Credentials, Signed};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use tonic_types::StatusExt;

pub use shared::api::v1 as pb;

pub mod fixtures;
pub mod peering;

/// Account ids the binaries use by default.
pub const ACCOUNT_A: &str = "1000000000000001";
pub const ACCOUNT_B: &str = "1000000000000002";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Initiator,
    Acceptor,
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Initiator => "initiator-svc",
            Binary::Acceptor => "acceptor-svc",
        }
    }
}

/// The directory that holds this build's binaries (target/debug or target/release).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(Path::parent).expect("target directory").to_path_buf()
}

/// Path of a service binary, built once per test process: `cargo test` does not build the binaries of
/// other packages, so the harness asks cargo for them.
pub fn binary_path(binary: Binary) -> PathBuf {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !*built {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "-p", "initiator-svc", "-p", "acceptor-svc", "-p", "peeringctl"]);
        if bin_dir().ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the service binaries failed");
        *built = true;
    }
    bin_dir().join(binary.name())
}

/// The `peeringctl` the harness built, e.g. to sign grpcurl calls.
pub fn peeringctl_path() -> PathBuf {
    binary_path(Binary::Initiator).with_file_name("peeringctl")
}

impl Service {
    /// grpcurl flags that sign one call to `method` (`pkg.Service/Method`) with this service's account key.
    pub fn grpcurl_signature(&self, method: &str) -> Vec<String> {
        let signed = shared::auth::sign(&self.credentials.account, &format!("/{method}"), chrono::Utc::now());
        signed.pairs().iter().flat_map(|(name, value)| ["-H".to_owned(), format!("{name}:{value}")]).collect()
    }
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("peering-test-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// A channel whose calls are signed with an AccessKey, as every call to the public API must be.
pub type Client = Signed<Channel>;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// The account a service with these flags simulates: `--account-id`, or the binary's default.
fn account_of(binary: Binary, args: &[String]) -> String {
    flag(args, "--account-id").unwrap_or_else(|| match binary {
        Binary::Initiator => ACCOUNT_A.to_owned(),
        Binary::Acceptor => ACCOUNT_B.to_owned(),
    })
}

/// The keys the harness gives each account's service (passed as flags, so restarts keep them): the
/// development keys' values, so tests can name any account's key.
pub fn keys_of(account_id: &str) -> Credentials {
    Credentials::development(account_id)
}

/// A running service process.
#[derive(Debug)]
pub struct Service {
    pub binary: Binary,
    pub addr: SocketAddr,
    pub data_dir: Option<PathBuf>,
    /// Extra flags it was started with (account id, peers, delays, keys), reused by restarts.
    pub args: Vec<String>,
    pub account_id: String,
    pub credentials: Credentials,
    /// With `--tls-cert`: the CA its certificate is signed by (the `--tls-ca` it was given), to call it.
    pub tls_ca: Option<Vec<u8>>,
    child: Child,
}

impl Service {
    /// Starts `binary` on an ephemeral port; `data_dir` None means `--in-memory`.
    pub async fn start(binary: Binary, data_dir: Option<&Path>) -> Self {
        Self::start_on(binary, data_dir, "127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(binary: Binary, data_dir: Option<&Path>, listen: SocketAddr) -> Self {
        Self::start_with(binary, data_dir, listen, &[]).await
    }

    /// Starts `binary` with extra flags, e.g. `["--peer", "1000000000000002=http://127.0.0.1:5000"]`.
    /// Unless `args` name keys, the service gets the harness's keys for its account.
    pub async fn start_with(binary: Binary, data_dir: Option<&Path>, listen: SocketAddr, args: &[String]) -> Self {
        let account_id = account_of(binary, args);
        let mut credentials = keys_of(&account_id);
        let mut args = args.to_vec();
        if let (Some(id), Some(secret)) = (flag(&args, "--access-key-id"), flag(&args, "--access-key-secret")) {
            credentials.account = AccessKey { access_key_id: id, access_key_secret: secret };
        } else {
            for (flag, value) in [
                ("--access-key-id", &credentials.account.access_key_id),
                ("--access-key-secret", &credentials.account.access_key_secret),
                ("--operator-key-id", &credentials.operator.access_key_id),
                ("--operator-key-secret", &credentials.operator.access_key_secret),
            ] {
                args.extend([flag.to_owned(), value.clone()]);
            }
        }
        let mut command = Command::new(binary_path(binary));
        command.arg("--listen").arg(listen.to_string()).args(&args);
        match data_dir {
            Some(dir) => command.arg("--data-dir").arg(dir),
            None => command.arg("--in-memory"),
        };
        command
            .env_remove("PEERING_LISTEN")
            .env_remove("PEERING_PEERS")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start service");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("service announced its address in time")
            .unwrap()
            .expect("service printed a line");
        let addr = line.rsplit(' ').next().unwrap().parse().expect("an address at the end of the line");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let tls_ca = flag(&args, "--tls-cert")
            .and(flag(&args, "--tls-ca"))
            .map(|ca| std::fs::read(ca).expect("the --tls-ca file"));
        Self { binary, addr, data_dir: data_dir.map(Path::to_path_buf), args, account_id, credentials, tls_ca, child }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls_ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// An unsigned channel: for health, reflection, and calls that must be refused.
    pub async fn channel(&self) -> Channel {
        let mut endpoint = Channel::from_shared(self.url()).unwrap();
        if let Some(ca) = &self.tls_ca {
            let tls =
                tonic::transport::ClientTlsConfig::new().ca_certificate(tonic::transport::Certificate::from_pem(ca));
            endpoint = endpoint.tls_config(tls).unwrap();
        }
        endpoint.connect().await.expect("connect to service")
    }

    /// A channel that signs with `key`.
    pub async fn signed_with(&self, key: &AccessKey) -> Client {
        Signed::new(self.channel().await, key.clone())
    }

    async fn as_account(&self) -> Client {
        self.signed_with(&self.credentials.account).await
    }

    pub async fn vpcs(&self) -> VpcServiceClient<Client> {
        VpcServiceClient::new(self.as_account().await)
    }

    pub async fn router_interfaces(&self) -> RouterInterfaceServiceClient<Client> {
        RouterInterfaceServiceClient::new(self.as_account().await)
    }

    pub async fn billing(&self) -> BillingServiceClient<Client> {
        BillingServiceClient::new(self.as_account().await)
    }

    /// SimulationService, as the operator.
    pub async fn simulation(&self) -> SimulationServiceClient<Client> {
        SimulationServiceClient::new(self.signed_with(&self.credentials.operator).await)
    }

    /// Graceful stop: SIGTERM, then wait for the process to exit.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("service stopped in time")
            .unwrap()
    }

    /// Hard stop: SIGKILL. Returns what is needed to start it again.
    pub async fn kill(mut self) -> Stopped {
        self.child.kill().await.unwrap();
        Stopped { binary: self.binary, addr: self.addr, data_dir: self.data_dir, args: self.args }
    }

    /// Graceful stop that keeps what is needed to start it again.
    pub async fn shut_down(self) -> Stopped {
        let stopped =
            Stopped { binary: self.binary, addr: self.addr, data_dir: self.data_dir.clone(), args: self.args.clone() };
        let status = self.stop().await;
        assert!(status.success(), "graceful stop exits 0, got {status}");
        stopped
    }

    /// Starts the same binary again on the same data directory, port and flags.
    pub async fn restart(self) -> Self {
        self.shut_down().await.start().await
    }
}

/// A service that was stopped, with what is needed to start it again as it was.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub binary: Binary,
    pub addr: SocketAddr,
    pub data_dir: Option<PathBuf>,
    pub args: Vec<String>,
}

impl Stopped {
    pub async fn start(self) -> Service {
        Service::start_with(self.binary, self.data_dir.as_deref(), self.addr, &self.args).await
    }
}

/// The error code (google.rpc.ErrorInfo reason) of a failed call.
pub fn reason(status: &tonic::Status) -> String {
    status.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

/// The request field an error names (ErrorInfo metadata `field`).
pub fn field(status: &tonic::Status) -> Option<String> {
    status.get_details_error_info().and_then(|i| i.metadata.get("field").cloned())
}

/// Creates a VPC and returns (vpc_id, vrouter_id).
pub async fn create_vpc(client: &mut VpcServiceClient<Client>, region: &str, cidr: &str) -> (String, String) {
    let r = client
        .create_vpc(pb::CreateVpcRequest { region_id: region.into(), cidr_block: cidr.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    (r.vpc_id, r.vrouter_id)
}

/// Describes one router interface.
pub async fn describe(client: &mut RouterInterfaceServiceClient<Client>, id: &str) -> pb::RouterInterface {
    client
        .describe_router_interface_attribute(pb::DescribeRouterInterfaceAttributeRequest {
            router_interface_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .router_interface
        .unwrap()
}

/// The status of a router interface.
pub async fn status_of(client: &mut RouterInterfaceServiceClient<Client>, id: &str) -> pb::Status {
    describe(client, id).await.status()
}
