//! One service's Prometheus metrics, served as text at `/metrics` on the service's own port (HTTP/1.1 and
//! HTTP/2 both work there, so `curl` and Prometheus scrape it as they are). Per account, not global: `peeringctl
//! up` runs both accounts in one process.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::account::{Account, Event};
use crate::domain::model::Status;

/// Where the metrics are served.
pub const PATH: &str = "/metrics";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rpc {
    method: String,
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Peer {
    peer_account: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByStatus {
    status: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// 0.1 ms to about 26 s.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

#[derive(Debug)]
pub struct Metrics {
    rpc_calls: Family<Rpc, Counter>,
    rpc_seconds: Histograms<Rpc>,
    handshake_seconds: Histogram,
    peer_link_up: Family<Peer, Gauge>,
    peer_link_reconnects: Family<Peer, Counter>,
    billing_events: Counter,
    router_interfaces: Family<ByStatus, Gauge>,
    /// Peers whose link was up at least once.
    peers_seen: Mutex<HashSet<String>>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("peering");
        let metrics = Self {
            rpc_calls: Family::default(),
            rpc_seconds: Family::new_with_constructor(latency_buckets),
            handshake_seconds: latency_buckets(),
            peer_link_up: Family::default(),
            peer_link_reconnects: Family::default(),
            billing_events: Counter::default(),
            router_interfaces: Family::default(),
            peers_seen: Mutex::default(),
            registry: Registry::default(),
        };
        registry.register(
            "rpc_calls",
            "Public and peer calls answered, by method and gRPC code",
            metrics.rpc_calls.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "Time to answer a call, by method and gRPC code",
            metrics.rpc_seconds.clone(),
        );
        registry.register(
            "handshake_duration_seconds",
            "From an end entering Connecting or Accepting to its Activated, as this service saw it",
            metrics.handshake_seconds.clone(),
        );
        registry.register("peer_link_up", "1 while the link with the peer account is up", metrics.peer_link_up.clone());
        registry.register(
            "peer_link_reconnects",
            "Times the link with the peer came back up",
            metrics.peer_link_reconnects.clone(),
        );
        registry.register(
            "billing_events",
            "Billing events fired: hourly charges, expiries, renewals, locks and releases",
            metrics.billing_events.clone(),
        );
        registry.register(
            "router_interfaces",
            "Router interfaces of this account, by status",
            metrics.router_interfaces.clone(),
        );
        Self { registry, ..metrics }
    }
}

impl Metrics {
    fn rpc(&self, method: &str, code: &str, started: Instant) {
        let labels = Rpc { method: method.to_owned(), code: code.to_owned() };
        self.rpc_calls.get_or_create(&labels).inc();
        self.rpc_seconds.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    }

    /// The link with `peer_account` went up or down; up again after the first time is a reconnect.
    pub fn peer_link(&self, peer_account: &str, up: bool) {
        let peer = Peer { peer_account: peer_account.to_owned() };
        let reconnects = self.peer_link_reconnects.get_or_create(&peer);
        let mut seen = self.peers_seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if up && !seen.insert(peer_account.to_owned()) {
            reconnects.inc();
        }
        self.peer_link_up.get_or_create(&peer).set(i64::from(up));
    }

    pub fn billing_events_fired(&self, fired: usize) {
        self.billing_events.inc_by(fired as u64);
    }

    /// The text exposition, with the router interface counts read from `account` now.
    pub async fn render(&self, account: &Account) -> String {
        let counts = account.read_on_runtime(Account::router_interfaces_by_status).await;
        for status in Status::ALL {
            let count = counts.get(&status).copied().unwrap_or(0);
            self.router_interfaces
                .get_or_create(&ByStatus { status: format!("{status:?}") })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Times each handshake from the committed changes: an end seen entering Connecting or Accepting, then
/// Activated.
pub fn spawn_handshake_timer(account: Account) -> JoinHandle<()> {
    let mut events = account.subscribe();
    tokio::spawn(async move {
        let mut started: HashMap<String, Instant> = HashMap::new();
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                // Missed events only miss some timings.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let ri = event.router_interface();
            let id = &ri.router_interface_id;
            match (&event, ri.status) {
                (Event::Changed(_), Status::Connecting | Status::Accepting) => {
                    started.entry(id.clone()).or_insert_with(Instant::now);
                }
                (Event::Changed(_), Status::Activated) => {
                    if let Some(since) = started.remove(id) {
                        account.metrics().handshake_seconds.observe(since.elapsed().as_secs_f64());
                    }
                }
                _ => {
                    started.remove(id);
                }
            }
        }
    })
}

/// Outermost layer: counts and times every call by method and gRPC code (refusals included), and answers
/// `GET /metrics`.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    account: Account,
}

impl MetricsLayer {
    pub fn new(account: Account) -> Self {
        Self { account }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Measured { account: self.account.clone(), inner }
    }
}

#[derive(Debug, Clone)]
pub struct Measured<S> {
    account: Account,
    inner: S,
}

impl<S, ReqBody> tower::Service<http::Request<ReqBody>> for Measured<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = crate::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        if path == PATH {
            let account = self.account.clone();
            return Box::pin(async move {
                let text = account.metrics().render(&account).await;
                let response = http::Response::builder()
                    .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                    .body(tonic::body::Body::new(text))
                    .unwrap_or_default();
                Ok(response)
            });
        }
        let method = path.trim_start_matches('/').to_owned();
        let account = self.account.clone();
        let started = Instant::now();
        // Every log line of the call carries the account, the method and (once known) the end.
        let span = tracing::info_span!(
            "call",
            account_id = %account.account_id(),
            method = %method,
            router_interface_id = tracing::field::Empty
        );
        let answer = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let response = answer.await?;
                // A failed unary call is answered trailers-only: its code is in the headers. A call that got as
                // far as a body ends OK, or (a stream) with a code in trailers this layer does not wait for.
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from_i32);
                account.metrics().rpc(&method, &format!("{code:?}"), started);
                Ok(response)
            }
            .instrument(span),
        )
    }
}
