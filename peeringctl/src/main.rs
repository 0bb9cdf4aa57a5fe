//! peeringctl: starts both accounts' services in one command (`peeringctl up`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use std::sync::Arc;

use acceptor_svc::AcceptorRole;
use initiator_svc::InitiatorRole;
use shared::config::{ACCEPTOR_DEFAULTS, Defaults, INITIATOR_DEFAULTS, PeerAddress, ServiceConfig, Storage};
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
    },
}

fn service_config(
    defaults: &Defaults,
    listen: std::net::SocketAddr,
    data_dir: PathBuf,
    in_memory: bool,
) -> ServiceConfig {
    ServiceConfig::new(defaults, listen, if in_memory { Storage::InMemory } else { Storage::Directory(data_dir) })
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Up { initiator_listen, acceptor_listen, data_dir, in_memory } = Cli::parse().command;
    server::init_tracing();
    // Account A's service dials account B's.
    let acceptor_peer =
        PeerAddress { account_id: ACCEPTOR_DEFAULTS.account_id.to_owned(), url: format!("http://{acceptor_listen}") };
    let roles: [(ServiceConfig, Arc<dyn Role>); 2] = [
        (
            service_config(&INITIATOR_DEFAULTS, initiator_listen, data_dir.join("initiator"), in_memory),
            Arc::new(InitiatorRole::new(vec![acceptor_peer])),
        ),
        (
            service_config(&ACCEPTOR_DEFAULTS, acceptor_listen, data_dir.join("acceptor"), in_memory),
            Arc::new(AcceptorRole),
        ),
    ];
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
    server::shutdown_signal().await;
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
