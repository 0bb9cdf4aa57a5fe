//! Command-line flags (each with an env var) shared by both services, validated into a config.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, Args, Command, FromArgMatches};

use crate::account::{BillingSettings, DEFAULT_INITIAL_BALANCE};
use crate::admission::Limits;
use crate::auth::{AccessKey, Credentials, PeerSecrets};
use crate::domain::ids;
use crate::domain::prices::{Money, PriceTable};

#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    /// Address to serve the public gRPC API on (port 0 picks a free port).
    #[arg(long, env = "PEERING_LISTEN")]
    pub listen: SocketAddr,
    /// The account this service simulates: 16 digits.
    #[arg(long, env = "PEERING_ACCOUNT_ID")]
    pub account_id: String,
    /// A readable name for the account, shown in logs.
    #[arg(long, env = "PEERING_ACCOUNT_NAME")]
    pub account_name: String,
    /// Where the account's SQLite database lives.
    #[arg(long, env = "PEERING_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Keep everything in memory: nothing survives a restart.
    #[arg(long, env = "PEERING_IN_MEMORY")]
    pub in_memory: bool,
    /// How long Connect, Deactivate and Activate wait for the other end before answering with a
    /// transitional status (Connecting, Suspending, Activating), in milliseconds.
    #[arg(long, env = "PEERING_SETTLE_WAIT_MS", default_value_t = 2000)]
    pub settle_wait_ms: u64,
    /// How long a connect may wait for the acceptor before the end returns to Idle, in milliseconds.
    #[arg(long, env = "PEERING_CONNECT_TIMEOUT_MS", default_value_t = 30_000)]
    pub connect_timeout_ms: u64,
    /// A delay before each message to the other account, in milliseconds, so that the transitional
    /// statuses can be watched in demos and tests.
    #[arg(long, env = "PEERING_TRANSITION_DELAY_MS", default_value_t = 0)]
    pub transition_delay_ms: u64,
    /// The balance a new account starts with (an existing account keeps its own), in the price table's
    /// currency.
    #[arg(long, env = "PEERING_INITIAL_BALANCE", default_value = DEFAULT_INITIAL_BALANCE)]
    pub initial_balance: String,
    /// A price table (JSON, like shared/data/prices.json) instead of the built-in simulated prices.
    #[arg(long, env = "PEERING_PRICE_TABLE")]
    pub price_table: Option<PathBuf>,
    /// The account's AccessKey id (with --access-key-secret); by default generated at first start and kept
    /// in the data directory's credentials.json.
    #[arg(long, env = "PEERING_ACCESS_KEY_ID", requires = "access_key_secret")]
    pub access_key_id: Option<String>,
    #[arg(long, env = "PEERING_ACCESS_KEY_SECRET", requires = "access_key_id", hide_env_values = true)]
    pub access_key_secret: Option<String>,
    /// The operator's AccessKey id (with --operator-key-secret), for SimulationService.
    #[arg(long, env = "PEERING_OPERATOR_KEY_ID", requires = "operator_key_secret")]
    pub operator_key_id: Option<String>,
    #[arg(long, env = "PEERING_OPERATOR_KEY_SECRET", requires = "operator_key_id", hide_env_values = true)]
    pub operator_key_secret: Option<String>,
    /// Use the well-known development keys (LTAIdev<account id>) and peer secrets: INSECURE, for local demos
    /// only.
    #[arg(long, env = "PEERING_DEV_CREDENTIALS")]
    pub dev_credentials: bool,
    /// The secret this account shares with a peer account, ACCOUNT_ID=SECRET, given to both services
    /// (repeatable; env: comma-separated). The peer link proves each side's account with it.
    #[arg(long = "peer-key", env = "PEERING_PEER_KEYS", value_delimiter = ',', hide_env_values = true)]
    pub peer_keys: Vec<PeerKey>,
    /// Calls that change state in progress at once; past this a call is answered RESOURCE_EXHAUSTED.
    #[arg(long, env = "PEERING_MAX_CONCURRENT_WRITES", default_value_t = Limits::default().concurrent_writes)]
    pub max_concurrent_writes: usize,
    /// Reads (Describe*, Get*, Check*) in progress at once.
    #[arg(long, env = "PEERING_MAX_CONCURRENT_READS", default_value_t = Limits::default().concurrent_reads)]
    pub max_concurrent_reads: usize,
    /// Calls a second to the public API, all kinds together; 0: no limit.
    #[arg(long, env = "PEERING_MAX_CALLS_PER_SECOND", default_value_t = 0)]
    pub max_calls_per_second: u32,
    /// Open WatchRouterInterfaces streams at once.
    #[arg(long, env = "PEERING_MAX_WATCH_STREAMS", default_value_t = DEFAULT_WATCH_STREAMS)]
    pub max_watch_streams: usize,
    /// The largest request message the public API takes, in bytes.
    #[arg(long, env = "PEERING_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// Serve TLS with this certificate chain (PEM), with --tls-key; `peeringctl dev-certs` makes one.
    #[arg(long, env = "PEERING_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "PEERING_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The CA (PEM) that signed the peers' certificates, for peers dialled at https:// addresses.
    #[arg(long, env = "PEERING_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Log lines as readable text or as JSON objects (one per line).
    #[arg(long, env = "PEERING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Instead of serving: ask the service already serving at --listen for its health (on 127.0.0.1 when
    /// --listen is 0.0.0.0), exit 0 if it is SERVING, 1 if not. For container health checks.
    #[arg(long)]
    pub probe: bool,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The certificate and key a service serves TLS with, as read at start.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("cert_bytes", &self.cert_pem.len()).finish_non_exhaustive()
    }
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))
}

/// The largest peer link message: a full resync of many connections is one message.
pub const PEER_MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Open watch streams at once, unless told otherwise.
pub const DEFAULT_WATCH_STREAMS: usize = 64;
/// The largest public request, unless told otherwise: far above any valid request.
pub const DEFAULT_MESSAGE_BYTES: usize = 1 << 20;

/// A secret shared with a peer account: `ACCOUNT_ID=SECRET`.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerKey {
    pub account_id: String,
    pub secret: String,
}

impl std::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerKey").field("account_id", &self.account_id).finish_non_exhaustive()
    }
}

impl std::str::FromStr for PeerKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (account_id, secret) = s
            .split_once('=')
            .ok_or_else(|| "a peer key is ACCOUNT_ID=SECRET (e.g. 1000000000000002=s3cret)".to_owned())?;
        ids::parse_account("the peer key's account id", account_id).map_err(|e| e.message)?;
        if secret.len() < 8 || secret.len() > 128 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("the peer key for {account_id} must be 8 to 128 printable ASCII characters"));
        }
        Ok(Self { account_id: account_id.to_owned(), secret: secret.to_owned() })
    }
}

/// The defaults that make one binary a given account out of the box.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub service: &'static str,
    pub listen: &'static str,
    pub account_id: &'static str,
    pub account_name: &'static str,
    pub data_dir: &'static str,
}

pub const INITIATOR_DEFAULTS: Defaults = Defaults {
    service: "initiator-svc",
    listen: "127.0.0.1:50051",
    account_id: "1000000000000001",
    account_name: "account-a",
    data_dir: ".peering-data/initiator",
};

pub const ACCEPTOR_DEFAULTS: Defaults = Defaults {
    service: "acceptor-svc",
    listen: "127.0.0.1:50052",
    account_id: "1000000000000002",
    account_name: "account-b",
    data_dir: ".peering-data/acceptor",
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    InMemory,
    Directory(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub service: &'static str,
    pub listen: SocketAddr,
    pub account_id: String,
    pub account_name: String,
    pub storage: Storage,
    pub settle_wait: Duration,
    pub connect_timeout: Duration,
    pub transition_delay: Duration,
    pub runtime: Runtime,
    pub billing: BillingSettings,
    pub credentials: CredentialSource,
    /// Secrets shared with peer accounts, by account id.
    pub peer_keys: BTreeMap<String, String>,
    pub limits: Limits,
    pub max_watch_streams: usize,
    pub max_message_bytes: usize,
    /// Serve TLS instead of plaintext.
    pub tls: Option<TlsIdentity>,
    /// The CA (PEM) to trust when dialling peers at https:// addresses.
    pub tls_ca: Option<Vec<u8>>,
    pub log_format: LogFormat,
    /// Probe the running service's health instead of serving.
    pub probe: bool,
}

impl ServiceConfig {
    /// The secrets the peer link proves accounts with.
    pub fn peer_secrets(&self) -> PeerSecrets {
        PeerSecrets::new(&self.account_id, self.credentials.development, self.peer_keys.clone())
    }
}

/// Where the service's AccessKeys come from; flags override either half.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialSource {
    /// The well-known development keys instead of stored or generated ones.
    pub development: bool,
    pub account: Option<AccessKey>,
    pub operator: Option<AccessKey>,
}

impl CredentialSource {
    /// The keys a service uses: given ones, else the development ones, else those kept in `data_dir`
    /// (made at first start), else (in memory) new ones for this run.
    pub fn resolve(&self, account_id: &str, storage: &Storage) -> Result<Credentials, String> {
        let mut credentials = if self.development {
            Credentials::development(account_id)
        } else if self.account.is_some() && self.operator.is_some() {
            Credentials::generate()
        } else {
            match storage {
                Storage::Directory(dir) => Credentials::load_or_create(dir)?,
                Storage::InMemory => Credentials::generate(),
            }
        };
        if let Some(key) = &self.account {
            credentials.account = key.clone();
        }
        if let Some(key) = &self.operator {
            credentials.operator = key.clone();
        }
        Ok(credentials)
    }
}

/// Where the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runtime {
    /// A real process: calls await their commits, which a round on the blocking pool writes, and every
    /// commit is synced to disk.
    #[default]
    Process,
    /// Inside a deterministic simulator: store calls run inline on the simulated scheduler, and commits
    /// are not synced (a simulated crash loses the process, not the operating system's file cache).
    Simulated,
}

impl ServiceConfig {
    /// A config with the defaults of `defaults` and the given address and storage.
    pub fn new(defaults: &Defaults, listen: SocketAddr, storage: Storage) -> Self {
        Self {
            service: defaults.service,
            listen,
            account_id: defaults.account_id.to_owned(),
            account_name: defaults.account_name.to_owned(),
            storage,
            settle_wait: Duration::from_millis(2000),
            connect_timeout: Duration::from_millis(30_000),
            transition_delay: Duration::ZERO,
            runtime: Runtime::Process,
            billing: BillingSettings::default(),
            credentials: CredentialSource::default(),
            peer_keys: BTreeMap::new(),
            limits: Limits::default(),
            max_watch_streams: DEFAULT_WATCH_STREAMS,
            max_message_bytes: DEFAULT_MESSAGE_BYTES,
            tls: None,
            tls_ca: None,
            log_format: LogFormat::Text,
            probe: false,
        }
    }
}

impl ServiceArgs {
    /// The service's flags with its own defaults.
    pub fn command(defaults: &Defaults, about: &'static str) -> Command {
        Self::augment_args(Command::new(defaults.service).about(about).version(env!("CARGO_PKG_VERSION")))
            .mut_arg("listen", |a| a.default_value(defaults.listen).required(false))
            .mut_arg("account_id", |a| a.default_value(defaults.account_id).required(false))
            .mut_arg("account_name", |a| a.default_value(defaults.account_name).required(false))
            .mut_arg("data_dir", |a| a.default_value(defaults.data_dir).required(false))
    }

    pub fn from_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches(matches)
    }

    pub fn validate(self, service: &'static str) -> Result<ServiceConfig, String> {
        ids::parse_account("--account-id", &self.account_id).map_err(|e| e.message)?;
        if self.account_name.trim().is_empty() {
            return Err("--account-name must not be empty".to_owned());
        }
        let initial_balance = Money::parse("--initial-balance", &self.initial_balance).map_err(|e| e.message)?;
        if initial_balance.is_negative() {
            return Err("--initial-balance must not be negative".to_owned());
        }
        let prices = match &self.price_table {
            None => PriceTable::built_in(),
            Some(path) => {
                let json =
                    std::fs::read_to_string(path).map_err(|e| format!("--price-table {}: {e}", path.display()))?;
                PriceTable::parse(&json).map_err(|e| format!("--price-table {}: {e}", path.display()))?
            }
        };
        Ok(ServiceConfig {
            service,
            listen: self.listen,
            account_id: self.account_id,
            account_name: self.account_name,
            storage: if self.in_memory { Storage::InMemory } else { Storage::Directory(self.data_dir) },
            settle_wait: Duration::from_millis(self.settle_wait_ms),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            transition_delay: Duration::from_millis(self.transition_delay_ms),
            runtime: Runtime::Process,
            billing: BillingSettings { prices: Arc::new(prices), initial_balance },
            credentials: CredentialSource {
                development: self.dev_credentials,
                account: key("--access-key-id", self.access_key_id, self.access_key_secret)?,
                operator: key("--operator-key-id", self.operator_key_id, self.operator_key_secret)?,
            },
            peer_keys: self.peer_keys.into_iter().map(|k| (k.account_id, k.secret)).collect(),
            limits: Limits {
                concurrent_writes: positive("--max-concurrent-writes", self.max_concurrent_writes)?,
                concurrent_reads: positive("--max-concurrent-reads", self.max_concurrent_reads)?,
                calls_per_second: self.max_calls_per_second,
            },
            max_watch_streams: positive("--max-watch-streams", self.max_watch_streams)?,
            max_message_bytes: positive("--max-message-bytes", self.max_message_bytes)?,
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => {
                    Some(TlsIdentity { cert_pem: read("--tls-cert", cert)?, key_pem: read("--tls-key", key)? })
                }
                _ => None,
            },
            tls_ca: self.tls_ca.as_deref().map(|ca| read("--tls-ca", ca)).transpose()?,
            log_format: self.log_format,
            probe: self.probe,
        })
    }
}

fn positive(flag: &str, n: usize) -> Result<usize, String> {
    if n == 0 { Err(format!("{flag} must be at least 1")) } else { Ok(n) }
}

/// A key pair given by flags (clap makes sure both halves come together).
fn key(flag: &str, id: Option<String>, secret: Option<String>) -> Result<Option<AccessKey>, String> {
    match (id, secret) {
        (Some(id), Some(secret)) => {
            let printable = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
            if !printable(&id) || !printable(&secret) {
                return Err(format!("{flag} and its secret must be 1 to 128 printable ASCII characters"));
            }
            Ok(Some(AccessKey { access_key_id: id, access_key_secret: secret }))
        }
        _ => Ok(None),
    }
}

/// Parses the process's arguments into a config and the binary's own flags `E`, exiting with clap's
/// message on bad input.
pub fn parse<E: Args + FromArgMatches>(defaults: &Defaults, about: &'static str) -> (ServiceConfig, E) {
    let command = || E::augment_args(ServiceArgs::command(defaults, about));
    let matches = command().get_matches();
    let extra = E::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let args = ServiceArgs::from_matches(&matches).unwrap_or_else(|e| e.exit());
    let config = args
        .validate(defaults.service)
        .unwrap_or_else(|message| command().error(clap::error::ErrorKind::ValueValidation, message).exit());
    (config, extra)
}

/// A peer account and where its service listens: `ACCOUNT_ID=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddress {
    pub account_id: String,
    pub url: String,
}

impl std::str::FromStr for PeerAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (account_id, url) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not ACCOUNT_ID=URL (e.g. 1000000000000002=http://127.0.0.1:50052)"))?;
        ids::parse_account("the peer account id", account_id).map_err(|e| e.message)?;
        let url = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
        url.parse::<tonic::transport::Uri>().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        Ok(Self { account_id: account_id.to_owned(), url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_from(args: &[&str]) -> Result<ServiceConfig, String> {
        let matches = ServiceArgs::command(&INITIATOR_DEFAULTS, "test")
            .try_get_matches_from(std::iter::once("initiator-svc").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        ServiceArgs::from_matches(&matches).map_err(|e| e.to_string())?.validate("initiator-svc")
    }

    #[test]
    fn defaults_work_out_of_the_box() {
        let c = parse_from(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(c.account_id, "1000000000000001");
        assert_eq!(c.storage, Storage::Directory(".peering-data/initiator".into()));
    }

    #[test]
    fn peer_addresses() {
        let p: PeerAddress = "1000000000000002=127.0.0.1:50052".parse().unwrap();
        assert_eq!(p.url, "http://127.0.0.1:50052");
        assert!("12=http://x".parse::<PeerAddress>().is_err());
        assert!("1000000000000002".parse::<PeerAddress>().is_err());
    }

    #[test]
    fn bad_account_ids_are_refused() {
        assert!(parse_from(&["--account-id", "12"]).unwrap_err().contains("16 digits"));
        assert!(parse_from(&["--listen", "nowhere"]).is_err());
        assert_eq!(parse_from(&["--in-memory"]).unwrap().storage, Storage::InMemory);
    }

    #[test]
    fn credential_flags() {
        let c = parse_from(&["--in-memory", "--access-key-id", "LTAIx", "--access-key-secret", "s3cret"]).unwrap();
        let keys = c.credentials.resolve(&c.account_id, &c.storage).unwrap();
        assert_eq!(keys.account.access_key_id, "LTAIx");
        assert!(parse_from(&["--access-key-id", "LTAIx"]).is_err(), "a key id needs its secret");
        assert!(
            parse_from(&["--access-key-id", "LTAI x", "--access-key-secret", "s"]).unwrap_err().contains("printable")
        );
        let dev = parse_from(&["--dev-credentials", "--in-memory"]).unwrap();
        let keys = dev.credentials.resolve(&dev.account_id, &dev.storage).unwrap();
        assert_eq!(keys, Credentials::development("1000000000000001"));
    }

    #[test]
    fn peer_keys() {
        let c = parse_from(&["--peer-key", "1000000000000002=long-enough"]).unwrap();
        assert_eq!(c.peer_secrets().with("1000000000000002").as_deref(), Some("long-enough"));
        assert_eq!(c.peer_secrets().with("1000000000000003"), None);
        assert!(parse_from(&["--peer-key", "1000000000000002=short"]).unwrap_err().contains("8 to 128"));
        assert!(parse_from(&["--peer-key", "12=long-enough"]).is_err());
    }

    #[test]
    fn billing_flags() {
        assert_eq!(parse_from(&[]).unwrap().billing.initial_balance, Money(10_000_000_000));
        assert_eq!(parse_from(&["--initial-balance", "12.5"]).unwrap().billing.initial_balance, Money(1250));
        assert!(parse_from(&["--initial-balance=-1"]).unwrap_err().contains("negative"));
        assert!(parse_from(&["--initial-balance", "lots"]).unwrap_err().contains("--initial-balance"));
        assert!(parse_from(&["--price-table", "/nonexistent/prices.json"]).unwrap_err().contains("--price-table"));
    }
}
