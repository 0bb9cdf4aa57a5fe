//! `peering-bench peering`: both services (release, durable storage, signed calls, the peer link
//! authenticated) and the load generator on this machine. Prints the floor (a bare unary gRPC call: the
//! health check), the connect latency across the two accounts against it, and the throughput of whole
//! lifecycles at 32 concurrent callers with each step's latency.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::api::peering_form;
use shared::api::v1::{
    self as pb, router_interface_service_client::RouterInterfaceServiceClient, vpc_service_client::VpcServiceClient,
};
use shared::auth::{Credentials, Signed};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::board::Board;
use crate::disk;
use crate::service::{self, Service};
use crate::stats::{Latencies, ms};
use pb::Status::{Activated, Activating, Connecting, Suspended, Suspending};

pub const ACCOUNT_A: &str = "1000000000000001";
pub const ACCOUNT_B: &str = "1000000000000002";

#[derive(Debug, Clone)]
pub struct Settings {
    pub callers: usize,
    pub seconds: u64,
    pub floor_calls: usize,
    pub connects: usize,
}

pub async fn channel(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// One account's clients, signing with its development key, and what its ends report.
#[derive(Clone)]
pub struct Account {
    pub vpcs: VpcServiceClient<Signed<Channel>>,
    pub ris: RouterInterfaceServiceClient<Signed<Channel>>,
    board: Option<Board>,
}

impl Account {
    /// `watched`: also follow what every end of the account reports (see [`Pair::until`]).
    pub async fn new(svc: &Service, account: &str, watched: bool) -> Self {
        let signed = Signed::new(channel(svc.addr).await, Credentials::development(account).account);
        let ris = RouterInterfaceServiceClient::new(signed.clone());
        let board = if watched {
            // The watch on a connection of its own, so that its events do not queue behind calls.
            let watching = Signed::new(channel(svc.addr).await, Credentials::development(account).account);
            Some(Board::watch(RouterInterfaceServiceClient::new(watching)).await)
        } else {
            None
        };
        Self { vpcs: VpcServiceClient::new(signed), ris, board }
    }

    fn board(&self) -> &Board {
        self.board.as_ref().unwrap_or_else(|| panic!("this benchmark does not watch the account's ends"))
    }

    pub async fn vpc(&mut self, region: &str, cidr: String) -> String {
        let request = pb::CreateVpcRequest { region_id: region.into(), cidr_block: cidr, ..Default::default() };
        self.vpcs.create_vpc(request).await.unwrap_or_else(|e| panic!("CreateVpc: {e}")).into_inner().vpc_id
    }
}

/// A step's call succeeded and answered one of the statuses it may lead to (the one it starts from would
/// say the call did nothing).
fn answered(step: &str, answer: Result<pb::Status, tonic::Status>, expected: &[pb::Status]) {
    let status = answer.unwrap_or_else(|e| panic!("{step}: {e}"));
    assert!(expected.contains(&status), "{step} answered {status:?}, not one of {expected:?}");
}

/// A pair of VPCs, one in each account, that connections are made between.
pub struct Pair {
    pub a: Account,
    pub b: Account,
    pub vpc_a: String,
    pub vpc_b: String,
}

/// The durable commits of a connect, one after the other: each is on disk before the message that leads
/// to the next (the peer protocol's rules 5 and 7).
const SEQUENTIAL_COMMITS: u32 = 4;

/// Durable appends timed on the disk under the services' data.
const DISK_APPENDS: usize = 500;

/// The steps of one lifecycle, timed separately.
const STEPS: [&str; 7] =
    ["create both ends", "connect", "suspend", "activate", "suspend again", "delete A's end", "delete B's end"];

impl Pair {
    async fn new(a: &Account, b: &Account, n: usize) -> Self {
        let (mut a, mut b) = (a.clone(), b.clone());
        let vpc_a = a.vpc("cn-hangzhou", format!("10.{}.{}.0/24", n / 256, n % 256)).await;
        let vpc_b = b.vpc("cn-shanghai", format!("172.16.{}.0/24", n % 256)).await;
        Self { a, b, vpc_a, vpc_b }
    }

    /// Both ends, named to each other, as the console makes them across accounts.
    pub async fn ends(&mut self) -> (String, String) {
        let form = |create, local, peer| {
            peering_form(pb::AccountType::Different, pb::ConnectionType::VpcToVpc, create, local, peer)
        };
        let (a, b) = (("cn-hangzhou", self.vpc_a.as_str()), ("cn-shanghai", self.vpc_b.as_str()));
        let request = pb::CreatePeeringConnectionRequest {
            peer_account_id: ACCOUNT_B.into(),
            bandwidth: "Large.1".into(),
            ..form(pb::RoutersToCreate::InitiatorOnly, a, b)
        };
        let a_end = self.a.ris.create_peering_connection(request).await;
        let a_end = a_end.unwrap_or_else(|e| panic!("initiator end: {e}")).into_inner().initiator_interface_id;
        let request = pb::CreatePeeringConnectionRequest {
            peer_account_id: ACCOUNT_A.into(),
            peer_interface_id: a_end.clone(),
            ..form(pb::RoutersToCreate::AcceptorOnly, b, a)
        };
        let b_end = self.b.ris.create_peering_connection(request).await;
        let b_end = b_end.unwrap_or_else(|e| panic!("acceptor end: {e}")).into_inner().acceptor_interface_id;
        let modify = pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: a_end.clone(),
            opposite_interface_id: Some(b_end.clone()),
            ..Default::default()
        };
        self.a.ris.modify_router_interface_attribute(modify).await.unwrap_or_else(|e| panic!("modify: {e}"));
        (a_end, b_end)
    }

    /// Connects, and returns once both ends report Activated.
    async fn connect(&mut self, a_end: &str, b_end: &str) {
        let request = pb::ConnectRouterInterfaceRequest { router_interface_id: a_end.into(), ..Default::default() };
        let connected = self.a.ris.connect_router_interface(request).await;
        answered("connect", connected.map(|r| r.into_inner().status()), &[Connecting, Activated]);
        self.until(a_end, b_end, pb::Status::Activated).await;
    }

    /// Waits until both ends report `status`, as their accounts' watches tell it.
    async fn until(&self, a_end: &str, b_end: &str, status: pb::Status) {
        self.a.board().until(a_end, status).await;
        self.b.board().until(b_end, status).await;
    }

    /// One whole lifecycle; each step's time goes into `steps`.
    async fn lifecycle(&mut self, steps: &mut [Latencies; 7]) {
        let mut clock = Instant::now();
        let mut lap = |steps: &mut [Latencies; 7], i: usize| {
            steps[i].push(clock.elapsed());
            clock = Instant::now();
        };
        let (a_end, b_end) = self.ends().await;
        lap(steps, 0);
        self.connect(&a_end, &b_end).await;
        lap(steps, 1);
        let id = || pb::DeactivateRouterInterfaceRequest { router_interface_id: a_end.clone(), ..Default::default() };
        let suspended = self.a.ris.deactivate_router_interface(id()).await;
        answered("suspend", suspended.map(|r| r.into_inner().status()), &[Suspending, Suspended]);
        self.until(&a_end, &b_end, pb::Status::Suspended).await;
        lap(steps, 2);
        let activate = pb::ActivateRouterInterfaceRequest { router_interface_id: a_end.clone(), ..Default::default() };
        let activated = self.a.ris.activate_router_interface(activate).await;
        answered("activate", activated.map(|r| r.into_inner().status()), &[Activating, Activated]);
        self.until(&a_end, &b_end, pb::Status::Activated).await;
        lap(steps, 3);
        let suspended = self.a.ris.deactivate_router_interface(id()).await;
        answered("suspend again", suspended.map(|r| r.into_inner().status()), &[Suspending, Suspended]);
        self.until(&a_end, &b_end, pb::Status::Suspended).await;
        lap(steps, 4);
        let delete =
            |id: &str| pb::DeleteRouterInterfaceRequest { router_interface_id: id.into(), ..Default::default() };
        self.a.ris.delete_router_interface(delete(&a_end)).await.unwrap_or_else(|e| panic!("delete A: {e}"));
        lap(steps, 5);
        self.b.ris.delete_router_interface(delete(&b_end)).await.unwrap_or_else(|e| panic!("delete B: {e}"));
        lap(steps, 6);
    }
}

pub async fn run(settings: Settings) {
    let bin_dir = service::build();
    let data = std::env::temp_dir().join(format!("peering-bench-{}", std::process::id()));
    let b_svc = Service::start(&bin_dir, "acceptor-svc", &data.join("b"), "127.0.0.1:0", &[]).await;
    let peer = format!("--peer={ACCOUNT_B}=http://{}", b_svc.addr);
    let a_svc = Service::start(&bin_dir, "initiator-svc", &data.join("a"), "127.0.0.1:0", &[peer]).await;
    println!(
        "initiator-svc on {} and acceptor-svc on {} (release, SQLite synchronous=FULL, signed calls, peer link authenticated); this machine: {} cores",
        a_svc.addr,
        b_svc.addr,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );

    // The floor: the health check, one call at a time, then from 32 callers at once.
    let mut health = HealthClient::new(channel(a_svc.addr).await);
    let mut floor = Latencies::default();
    for _ in 0..settings.floor_calls {
        let started = Instant::now();
        health.check(HealthCheckRequest::default()).await.unwrap_or_else(|e| panic!("health: {e}"));
        floor.push(started.elapsed());
    }
    let floor_p50 = floor.quantile(0.5);
    let answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(settings.seconds);
    let mut callers = Vec::new();
    for _ in 0..settings.callers {
        let mut health = HealthClient::new(channel(a_svc.addr).await);
        let answered = answered.clone();
        callers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if health.check(HealthCheckRequest::default()).await.is_ok() {
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for caller in callers {
        let _ = caller.await;
    }
    let floor_rate = answered.load(std::sync::atomic::Ordering::Relaxed) as f64 / settings.seconds as f64;
    println!(
        "floor (grpc.health.v1.Health/Check): sequential p50 {}, p99 {} ({} calls); {:.0} calls/s at {} callers",
        ms(floor_p50),
        ms(floor.quantile(0.99)),
        floor.len(),
        floor_rate,
        settings.callers
    );

    // What durability costs on this disk: a connect cannot be faster than its commits one after the other.
    let sync_p50 = disk::durable_appends(&data, DISK_APPENDS).quantile(0.5);
    println!(
        "disk under the data: a 4 KiB append made durable (fdatasync) p50 {}; a connect commits {SEQUENTIAL_COMMITS} times one after the other (initiator Connecting, acceptor Accepting, initiator Activated, acceptor Activated), each on disk before the next step: at least {} ({:.1}x the floor's p50)",
        ms(sync_p50),
        ms(sync_p50 * SEQUENTIAL_COMMITS),
        (sync_p50 * SEQUENTIAL_COMMITS).as_secs_f64() / floor_p50.as_secs_f64().max(f64::EPSILON)
    );

    // Connect latency: one connection at a time, from ConnectRouterInterface until both ends say Activated.
    let (a, b) = (Account::new(&a_svc, ACCOUNT_A, true).await, Account::new(&b_svc, ACCOUNT_B, true).await);
    let mut connects = Latencies::default();
    for n in 0..settings.connects {
        // Each connection between a pair of VPCs of its own (a router has at most five ends).
        let mut pair = Pair::new(&a, &b, 4096 + n).await;
        let (a_end, b_end) = pair.ends().await;
        let started = Instant::now();
        pair.connect(&a_end, &b_end).await;
        connects.push(started.elapsed());
    }
    let connect_p50 = connects.quantile(0.5);
    println!(
        "connect (ConnectRouterInterface until both ends report Activated): p50 {}, p99 {} ({} connections); p50 is {:.1}x the floor's p50 (target <= 4x)",
        ms(connect_p50),
        ms(connects.quantile(0.99)),
        connects.len(),
        connect_p50.as_secs_f64() / floor_p50.as_secs_f64().max(f64::EPSILON)
    );

    // Lifecycles: each caller has its own pair of VPCs and goes round until the time is up.
    let steps = Arc::new(Mutex::new(std::array::from_fn::<Latencies, 7, _>(|_| Latencies::default())));
    let completed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut pairs = Vec::new();
    for n in 0..settings.callers {
        pairs.push(Pair::new(&a, &b, n).await);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(settings.seconds);
    let mut callers = Vec::new();
    for mut pair in pairs {
        let (steps, completed) = (steps.clone(), completed.clone());
        callers.push(tokio::spawn(async move {
            let mut mine = std::array::from_fn::<Latencies, 7, _>(|_| Latencies::default());
            while Instant::now() < deadline {
                pair.lifecycle(&mut mine).await;
                completed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let mut all = steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (into, from) in all.iter_mut().zip(mine) {
                into.extend(from);
            }
        }));
    }
    for caller in callers {
        if let Err(e) = caller.await {
            panic!("a lifecycle failed: {e}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let completed = completed.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "lifecycles (create both ends, connect, suspend, activate, suspend, delete both) at {} callers: {completed} in {elapsed:.1} s = {:.0} lifecycles/s (target >= 1000)",
        settings.callers,
        completed as f64 / elapsed
    );
    let steps = std::mem::take(&mut *steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    for (name, latencies) in STEPS.iter().zip(steps.iter()) {
        println!("  {name:<18} p50 {:>9}  p99 {:>9}", ms(latencies.quantile(0.5)), ms(latencies.quantile(0.99)));
    }
    println!(
        "memory: initiator-svc RSS {} MiB, acceptor-svc RSS {} MiB",
        a_svc.rss_kib() / 1024,
        b_svc.rss_kib() / 1024
    );
    a_svc.kill().await;
    b_svc.kill().await;
    let _ = std::fs::remove_dir_all(&data);
}
