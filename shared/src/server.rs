//! Server bootstrap shared by both services: storage, the public services, health, reflection,
//! tracing, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::Connected;
use tonic_health::ServingStatus;
use tonic_health::pb::health_check_response::ServingStatus as Probed;
use tracing::Instrument;

use crate::account::Account;
use crate::admission::AdmissionLayer;
use crate::api::v1::billing_service_server::BillingServiceServer;
use crate::api::v1::router_interface_service_server::RouterInterfaceServiceServer;
use crate::api::v1::simulation_service_server::SimulationServiceServer;
use crate::api::v1::vpc_service_server::VpcServiceServer;
use crate::auth::{AuthLayer, Credentials};
use crate::clock::{RuntimeClock, SystemClock};
use crate::config::{Defaults, LogFormat, Runtime, ServiceConfig, Storage};
use crate::grpc::{BillingApi, RouterInterfaceApi, SimulationApi, VpcApi};
use crate::metrics::MetricsLayer;
use crate::store::{SqliteStore, Store, StoreError};
use chrono::DateTime;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("credentials: {0}")]
    Credentials(String),
}

/// Logs to stderr, as text or JSON lines; `RUST_LOG` picks what (default `info`).
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second call (peeringctl runs two services in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        // Each line carries the spans it happened in (account, router interface, peer account).
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(true).try_init(),
    };
}

/// `--probe`: the health of the service serving at `listen`, as a process exit code.
async fn probe(listen: SocketAddr) -> ExitCode {
    let ip = if listen.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { listen.ip() };
    let url = format!("http://{}", SocketAddr::new(ip, listen.port()));
    let checked = async {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())?.connect().await?;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let answer = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await?;
        Ok::<_, Box<dyn std::error::Error>>(answer.into_inner().status())
    };
    match tokio::time::timeout(Duration::from_secs(3), checked).await {
        Ok(Ok(Probed::Serving)) => {
            println!("{url}: SERVING");
            ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            println!("{url}: {}", status.as_str_name());
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            println!("{url}: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            println!("{url}: no answer within 3 s");
            ExitCode::FAILURE
        }
    }
}

pub fn open_account(config: &ServiceConfig) -> Result<Account, StoreError> {
    let synced = config.runtime == Runtime::Process;
    let store: Box<dyn Store> = match &config.storage {
        Storage::InMemory => Box::new(SqliteStore::in_memory()?),
        Storage::Directory(dir) => Box::new(SqliteStore::open(dir, synced)?),
    };
    Ok(if synced {
        Account::open(&config.account_id, store, Arc::new(SystemClock), config.billing.clone())?
    } else {
        Account::open(
            &config.account_id,
            store,
            Arc::new(RuntimeClock::new(DateTime::UNIX_EPOCH)),
            config.billing.clone(),
        )?
        .with_inline_calls()
    })
}

/// HTTP/2 streams one client connection may have open at once.
const MAX_STREAMS_PER_CONNECTION: u32 = 128;

/// The keys callers must sign with; says loudly when they are the well-known development ones.
fn credentials(config: &ServiceConfig) -> Result<Credentials, ServerError> {
    let credentials =
        config.credentials.resolve(&config.account_id, &config.storage).map_err(ServerError::Credentials)?;
    if config.credentials.development {
        tracing::warn!(
            access_key_id = %credentials.account.access_key_id,
            "INSECURE: serving with the well-known development credentials (--dev-credentials); anyone can \
             compute them. Do not use them beyond a local demo"
        );
    } else if config.storage == Storage::InMemory && config.credentials.account.is_none() {
        // Nothing is written in memory, so this is the only place the generated keys can be seen.
        tracing::warn!(
            access_key_id = %credentials.account.access_key_id,
            access_key_secret = %credentials.account.access_key_secret,
            operator_key_id = %credentials.operator.access_key_id,
            operator_key_secret = %credentials.operator.access_key_secret,
            "generated AccessKeys for this in-memory run (give --access-key-id/--access-key-secret to choose them)"
        );
    }
    Ok(credentials)
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })
}

/// What one kind of service adds to an account's control plane: the initiator dials its peers, the acceptor
/// serves the peer link.
pub trait Role: Send + Sync {
    /// The accounts this service dials.
    fn peers(&self) -> Vec<String> {
        Vec::new()
    }

    /// Extra gRPC services.
    fn routes(&self, _account: &Account, _config: &ServiceConfig) -> Option<Routes> {
        None
    }

    /// Background tasks, stopped at shutdown.
    fn start(&self, _account: &Account, _config: &ServiceConfig) -> Vec<JoinHandle<()>> {
        Vec::new()
    }
}

/// Serves the account on `listener` until `shutdown` completes; then reports NOT_SERVING, lets in-flight
/// calls finish and closes the store.
pub async fn serve(
    config: &ServiceConfig,
    role: &dyn Role,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    // Without TCP_NODELAY, the peer link's small messages wait for delayed ACKs (40 ms a round trip).
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted
            && let Err(e) = stream.set_nodelay(true)
        {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
        accepted
    });
    serve_on(config, role, incoming, shutdown).await
}

/// [`serve`] on any stream of connections: a deterministic simulator injects its own network here.
pub async fn serve_on<I, IO, IE>(
    config: &ServiceConfig,
    role: &dyn Role,
    incoming: I,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError>
where
    I: Stream<Item = Result<IO, IE>> + Send,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IO::ConnectInfo: Clone + Send + Sync + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let span = tracing::info_span!("service", service = config.service, account_id = %config.account_id);
    serve_account(config, role, incoming, shutdown).instrument(span).await
}

async fn serve_account<I, IO, IE>(
    config: &ServiceConfig,
    role: &dyn Role,
    incoming: I,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError>
where
    I: Stream<Item = Result<IO, IE>> + Send,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IO::ConnectInfo: Clone + Send + Sync + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let credentials = credentials(config)?;
    let account = open_account(config)?.with_peers(role.peers()).with_limits(config.limits);
    let mut tasks = role.start(&account, config);
    tasks.push(crate::connect_timeout::spawn(account.clone(), config.connect_timeout));
    tasks.push(crate::billing_clock::spawn(account.clone()));
    tasks.push(crate::metrics::spawn_handshake_timer(account.clone()));

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<VpcServiceServer<VpcApi>>().await;
    health.set_serving::<RouterInterfaceServiceServer<RouterInterfaceApi>>().await;
    health.set_serving::<BillingServiceServer<BillingApi>>().await;
    health.set_serving::<SimulationServiceServer<SimulationApi>>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::api::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let drain = {
        let health = health.clone();
        let account = account.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: NOT_SERVING, finishing in-flight calls");
            // Streams that would never finish on their own end now, or the drain would wait forever.
            account.begin_shutdown();
            health.set_service_status("", ServingStatus::NotServing).await;
            health.set_not_serving::<VpcServiceServer<VpcApi>>().await;
            health.set_not_serving::<RouterInterfaceServiceServer<RouterInterfaceApi>>().await;
            health.set_not_serving::<BillingServiceServer<BillingApi>>().await;
            health.set_not_serving::<SimulationServiceServer<SimulationApi>>().await;
        }
    };
    tracing::info!(account_name = %config.account_name, listen = %config.listen, "serving");
    let mut routes = role.routes(&account, config).unwrap_or_default();
    let max = config.max_message_bytes;
    let router_interfaces = RouterInterfaceApi::new(account.clone(), config.settle_wait, config.max_watch_streams);
    let mut builder = Server::builder();
    if let Some(tls) = &config.tls {
        let identity = tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem);
        builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let server = builder
        // HTTP/1.1 too, for `GET /metrics`.
        .accept_http1(true)
        .layer(MetricsLayer::new(account.clone()))
        // Past capacity, a call is refused before its signature is even checked.
        .layer(AdmissionLayer::new(account.slots().clone(), config.limits.calls_per_second))
        .layer(AuthLayer::new(credentials, config.peer_secrets()))
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .add_routes(std::mem::take(&mut routes))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(VpcServiceServer::new(VpcApi::new(account.clone())).max_decoding_message_size(max))
        .add_service(RouterInterfaceServiceServer::new(router_interfaces).max_decoding_message_size(max))
        .add_service(BillingServiceServer::new(BillingApi::new(account.clone())).max_decoding_message_size(max))
        .add_service(SimulationServiceServer::new(SimulationApi::new(account.clone())).max_decoding_message_size(max))
        .serve_with_incoming_shutdown(incoming, drain);
    // A client's stream that never ends (a health Watch, say) must not keep the service from stopping:
    // past the grace period the remaining connections are dropped.
    let served = tokio::select! {
        served = server => served,
        () = async { account.stopping().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "in-flight calls did not finish in time; closing their connections");
            Ok(())
        }
    };
    for task in tasks {
        task.abort();
    }
    account.close()?;
    tracing::info!("store closed");
    Ok(served?)
}

/// How long in-flight calls may take to finish once shutdown began.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Completes on SIGINT or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    // Registered now, before the service announces itself: a signal sent right after the announcement
    // must stop it gracefully, not kill it.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!(error = %e, "cannot listen for SIGINT and SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Binds and says where, on one machine-readable stdout line, so scripts and tests can find an
/// ephemeral port.
pub async fn bind_and_announce(config: &ServiceConfig) -> Result<TcpListener, ServerError> {
    let listener = bind(config.listen).await?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    println!("{} account {} listening on {addr}", config.service, config.account_id);
    Ok(listener)
}

/// Threads of tokio's blocking pool: account calls run on the runtime's workers, and the pool runs the
/// account's round of commits (one at a time) and the peer link's address look-ups, which may hang while
/// a name server is away (so there is room for several beside the round). Every thread that allocates
/// keeps memory of its own in the allocator; tokio's default (512) once let a busy service hold several
/// times its live data.
const BLOCKING_THREADS: usize = 16;

/// A service binary's whole life on its own runtime: bind, serve until SIGINT or SIGTERM.
pub fn run(defaults: &Defaults, config: ServiceConfig, role: &dyn Role) -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(BLOCKING_THREADS).build();
    match runtime {
        Ok(runtime) => runtime.block_on(main(defaults, config, role)),
        Err(e) => {
            eprintln!("{}: cannot start the runtime: {e}", defaults.service);
            ExitCode::FAILURE
        }
    }
}

/// A service's whole life on the current runtime: bind, serve until SIGINT or SIGTERM.
pub async fn main(defaults: &Defaults, config: ServiceConfig, role: &dyn Role) -> ExitCode {
    if config.probe {
        return probe(config.listen).await;
    }
    init_logs(config.log_format);
    let shutdown = shutdown_signal();
    let served = match bind_and_announce(&config).await {
        Ok(listener) => serve(&config, role, listener, shutdown).await,
        Err(e) => Err(e),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", defaults.service);
            ExitCode::FAILURE
        }
    }
}
