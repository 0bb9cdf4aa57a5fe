//! peeringctl: starts both accounts' services in one command (`peeringctl up`), signs calls for grpcurl
//! (`peeringctl sign`), calls the services (`vpc`, `vbr`, `route`, `ri`, `watch`, `reachability`) and runs
//! the user guide's procedures against them (`demo`).

mod client;
mod commands;
mod demo;
mod dev_certs;
mod output;
mod sign;
mod wait;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use commands::Noun;
use std::sync::Arc;

use acceptor_svc::AcceptorRole;
use initiator_svc::InitiatorRole;
use shared::auth::{AccessKey, Credentials};
use shared::config::{ACCEPTOR_DEFAULTS, Defaults, INITIATOR_DEFAULTS, LogFormat, PeerAddress, ServiceConfig, Storage};
use shared::server::{self, Role};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(name = "peeringctl", version, about = "Express Connect peering emulator: launcher and client")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start initiator-svc (account A) and acceptor-svc (account B) with embedded storage, until Ctrl-C.
    Up {
        /// Address of account A's service (initiator-svc).
        #[arg(long, env = "PEERINGCTL_INITIATOR_LISTEN", default_value = INITIATOR_DEFAULTS.listen)]
        initiator_listen: std::net::SocketAddr,
        /// Address of account B's service (acceptor-svc).
        #[arg(long, env = "PEERINGCTL_ACCEPTOR_LISTEN", default_value = ACCEPTOR_DEFAULTS.listen)]
        acceptor_listen: std::net::SocketAddr,
        /// Directory holding both accounts' databases (initiator/ and acceptor/ under it).
        #[arg(long, env = "PEERINGCTL_DATA_DIR", default_value = ".peering-data")]
        data_dir: PathBuf,
        /// Keep everything in memory: nothing survives a restart.
        #[arg(long, env = "PEERINGCTL_IN_MEMORY")]
        in_memory: bool,
        /// Generate each account's keys at first start (kept in its data directory) instead of using the
        /// well-known, INSECURE development keys.
        #[arg(long, env = "PEERINGCTL_GENERATE_CREDENTIALS")]
        generate_credentials: bool,
        /// Log lines as readable text or as JSON objects.
        #[arg(long, env = "PEERING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// Write a development CA and a server certificate (ca.pem, server.pem, server.key) for TLS:
    /// --tls-cert server.pem --tls-key server.key on the services, --tls-ca ca.pem on their callers.
    DevCerts {
        /// The directory to write them into.
        #[arg(long, default_value = ".peering-data/tls")]
        out: PathBuf,
        /// The names the services are reached by (DNS names or IP addresses).
        #[arg(long = "name", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        names: Vec<String>,
    },
    /// Print grpcurl flags that sign one call: grpcurl $(peeringctl sign METHOD) -plaintext ... ADDRESS METHOD.
    /// Without a key, uses the development key of --account (or the operator's, with --operator).
    Sign {
        /// The method as grpcurl names it, e.g. expressconnect.v1.VpcService/DescribeVpcs.
        method: String,
        /// Whose development key signs.
        #[arg(long, default_value = INITIATOR_DEFAULTS.account_id)]
        account: String,
        /// Sign as the operator (SimulationService).
        #[arg(long)]
        operator: bool,
        /// Sign with this AccessKey (with --access-key-secret) instead of a development key.
        #[arg(long, env = "PEERING_ACCESS_KEY_ID", requires = "access_key_secret")]
        access_key_id: Option<String>,
        #[arg(long, env = "PEERING_ACCESS_KEY_SECRET", requires = "access_key_id", hide_env_values = true)]
        access_key_secret: Option<String>,
    },
    /// VPCs: create, list, delete.
    Vpc(Noun<commands::vpc::Verb>),
    /// Virtual Border Routers: create, list, delete.
    Vbr(Noun<commands::vbr::Verb>),
    /// Custom route entries towards router interfaces: create, list, delete.
    Route(Noun<commands::route::Verb>),
    /// Router interfaces (the ends of a peering connection): create, modify, connect, suspend, activate,
    /// upgrade, renew, delete, describe.
    Ri(Noun<commands::ri::Verb>),
    /// Print every change of the account's ends as it happens, until Ctrl-C (JSON lines with --json).
    Watch(commands::watch::Watch),
    /// Does traffic from a VPC or VBR reach an address now, and if not, why?
    Reachability(commands::reachability::Reachability),
    /// Run the user guide's procedures against running services (`peeringctl up`), printing both sides'
    /// statuses as they change, and delete what it made. Exits non-zero naming the step that failed.
    Demo(demo::Demo),
}

fn service_config(
    defaults: &Defaults,
    listen: std::net::SocketAddr,
    data_dir: PathBuf,
    in_memory: bool,
    development: bool,
) -> ServiceConfig {
    let mut config =
        ServiceConfig::new(defaults, listen, if in_memory { Storage::InMemory } else { Storage::Directory(data_dir) });
    config.credentials.development = development;
    config
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::DevCerts { out, names } => match dev_certs::write(&out, &names) {
            Ok(()) => {
                println!(
                    "wrote {ca}, {cert} and {key} to {dir} (for {names}); serve with --tls-cert {dir}/{cert} --tls-key {dir}/{key}, \
                     call with --tls-ca {dir}/{ca} (grpcurl: -cacert {dir}/{ca})",
                    ca = dev_certs::CA_FILE,
                    cert = dev_certs::CERT_FILE,
                    key = dev_certs::KEY_FILE,
                    dir = out.display(),
                    names = names.join(", ")
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("peeringctl dev-certs: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Sign { method, account, operator, access_key_id, access_key_secret } => {
            let given = access_key_id
                .zip(access_key_secret)
                .map(|(access_key_id, access_key_secret)| AccessKey { access_key_id, access_key_secret });
            match sign::path_of(&method) {
                Ok(path) => {
                    println!("{}", sign::grpcurl_flags(&sign::key(&account, operator, given), &path));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("peeringctl sign: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Up { initiator_listen, acceptor_listen, data_dir, in_memory, generate_credentials, log_format } => {
            server::init_logs(log_format);
            up(initiator_listen, acceptor_listen, data_dir, in_memory, !generate_credentials).await
        }
        Command::Vpc(Noun { client, verb }) => client::finish(verb.run(client).await),
        Command::Vbr(Noun { client, verb }) => client::finish(verb.run(client).await),
        Command::Route(Noun { client, verb }) => client::finish(verb.run(client).await),
        Command::Ri(Noun { client, verb }) => client::finish(verb.run(client).await),
        Command::Watch(command) => client::finish(command.run().await),
        Command::Reachability(command) => client::finish(command.run().await),
        Command::Demo(command) => client::finish(command.run().await),
    }
}

async fn up(
    initiator_listen: std::net::SocketAddr,
    acceptor_listen: std::net::SocketAddr,
    data_dir: PathBuf,
    in_memory: bool,
    development: bool,
) -> ExitCode {
    // Account A's service dials account B's.
    let acceptor_peer =
        PeerAddress { account_id: ACCEPTOR_DEFAULTS.account_id.to_owned(), url: format!("http://{acceptor_listen}") };
    let roles: [(ServiceConfig, Arc<dyn Role>); 2] = [
        (
            service_config(&INITIATOR_DEFAULTS, initiator_listen, data_dir.join("initiator"), in_memory, development),
            Arc::new(InitiatorRole::new(vec![acceptor_peer], None)),
        ),
        (
            service_config(&ACCEPTOR_DEFAULTS, acceptor_listen, data_dir.join("acceptor"), in_memory, development),
            Arc::new(AcceptorRole),
        ),
    ];
    let shutdown = server::shutdown_signal();
    let (stop, stopped) = watch::channel(false);
    let mut services = Vec::new();
    for (config, role) in roles {
        let listener = match server::bind_and_announce(&config).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("peeringctl: {}: {e}", config.service);
                return ExitCode::FAILURE;
            }
        };
        let mut stopped = stopped.clone();
        services.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let result = server::serve(&config, role.as_ref(), listener, shutdown).await;
            (config.service, result)
        }));
    }
    println!("both accounts are up; try: grpcurl -plaintext {initiator_listen} list   (Ctrl-C stops both)");
    if development {
        for defaults in [&INITIATOR_DEFAULTS, &ACCEPTOR_DEFAULTS] {
            let keys = Credentials::development(defaults.account_id);
            println!(
                "{} (account {}): AccessKey {} / {} (INSECURE development keys; sign calls with: peeringctl sign --account {} METHOD)",
                defaults.service,
                defaults.account_id,
                keys.account.access_key_id,
                keys.account.access_key_secret,
                defaults.account_id
            );
        }
        let operator = Credentials::development(INITIATOR_DEFAULTS.account_id).operator;
        println!("operator: AccessKey {} / {}", operator.access_key_id, operator.access_key_secret);
    } else {
        println!("each account's keys are in credentials.json in its data directory under {}", data_dir.display());
    }
    shutdown.await;
    let _ = stop.send(true);
    let mut code = ExitCode::SUCCESS;
    for service in services {
        match service.await {
            Ok((_, Ok(()))) => {}
            Ok((name, Err(e))) => {
                eprintln!("peeringctl: {name}: {e}");
                code = ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("peeringctl: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    code
}
