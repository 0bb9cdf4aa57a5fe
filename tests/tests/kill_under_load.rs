//! Crashes under load, with real processes: while owners of both accounts keep suspending, activating,
//! connecting, deleting and making connections concurrently, either service is killed (SIGKILL) ten times
//! at random moments and started again on its data directory. Afterwards every call that returned OK is
//! reflected and both sides agree, as judged by the deterministic simulation's own invariant checker
//! (`sim::checker`) on a snapshot of every end of both accounts.
//!
//! The run is a function of its seed (`KILL_SEED=N` replays a choice sequence; timing still varies).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use scenario_tests::peering::{Flags, connect, prepare_connection, start_pair, wait_agreement};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Client, TempDir, keys_of, pb};
use shared::api::v1::router_interface_service_client::RouterInterfaceServiceClient;
use shared::api::v1::vpc_service_client::VpcServiceClient;
use shared::auth::Signed;
use shared::random::SplitMix64;
use sim::checker::{Snapshot, add_account, check_always, check_quiescent};
use sim::model::{Conn, Model, Own};
use tokio::time::Instant;
use tonic::Code;
use tonic::transport::Channel;

const DEFAULT_SEED: u64 = 0x6b11_1e55_10ad;
const KILLS: usize = 10;
const WORKERS: u64 = 4;
/// Connection slots the workers share; each slot is used by one worker at a time, so that the calls on one
/// connection are answered in the order they were made and the model's "last acknowledged intent" is exact.
const SLOTS: usize = 6;
const PREPARED: usize = 4;
/// How long a user waits for an answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// After the last restart, every invariant must hold within this.
const CONVERGE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

#[derive(Debug, Clone, Copy)]
struct Addrs {
    a: SocketAddr,
    b: SocketAddr,
}

impl Addrs {
    fn of(self, side: Side) -> SocketAddr {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }
}

/// Why a call did not return OK.
#[derive(Debug)]
enum Failure {
    /// No connection to the service: the request was never sent, so nothing changed.
    NotSent,
    /// The service refused it: nothing changed.
    Refused,
    /// No answer (the process died under it, or it timed out): it may or may not have happened.
    Unknown(String),
}

/// Whether a failed call certainly changed nothing (a refusal) rather than maybe (no answer).
fn refused(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::FailedPrecondition | Code::InvalidArgument | Code::NotFound)
}

/// The two services' addresses, set once they start: calls are signed with the key of the account behind
/// the address.
static SERVICES: OnceLock<Addrs> = OnceLock::new();

async fn channel(addr: SocketAddr) -> Option<Client> {
    let account = if SERVICES.get().is_some_and(|s| s.a == addr) { ACCOUNT_A } else { ACCOUNT_B };
    let endpoint = Channel::from_shared(format!("http://{addr}")).unwrap().connect_timeout(Duration::from_millis(500));
    let channel = tokio::time::timeout(Duration::from_secs(1), endpoint.connect()).await.ok()?.ok()?;
    Some(Signed::new(channel, keys_of(account).account))
}

/// One call on a fresh channel to `addr` (the port stays the same across restarts), classified.
async fn call<T, F, Fut>(addr: SocketAddr, f: F) -> Result<T, Failure>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>>,
{
    let Some(channel) = channel(addr).await else {
        return Err(Failure::NotSent);
    };
    match tokio::time::timeout(CALL_TIMEOUT, f(channel)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(status)) if refused(&status) => Err(Failure::Refused),
        Ok(Err(status)) => Err(Failure::Unknown(format!("{:?}: {}", status.code(), status.message()))),
        Err(_) => Err(Failure::Unknown("no answer in time".to_owned())),
    }
}

/// What the users were told, and counts of what happened to their calls.
#[derive(Debug, Default)]
struct Ledger {
    model: Model,
    acknowledged: BTreeMap<&'static str, usize>,
    refused: BTreeMap<&'static str, usize>,
    unknown: BTreeMap<&'static str, usize>,
    /// Why calls went unanswered.
    unanswered_because: BTreeMap<String, usize>,
    not_sent: usize,
}

impl Ledger {
    /// Counts the outcome of a call of `kind`.
    fn count<T>(&mut self, kind: &'static str, result: &Result<T, Failure>) {
        match result {
            Ok(_) => *self.acknowledged.entry(kind).or_default() += 1,
            Err(Failure::Refused) => *self.refused.entry(kind).or_default() += 1,
            Err(Failure::Unknown(why)) => {
                *self.unknown.entry(kind).or_default() += 1;
                *self.unanswered_because.entry(why.clone()).or_default() += 1;
            }
            Err(Failure::NotSent) => self.not_sent += 1,
        }
    }

    fn record_intent(&mut self, kind: &'static str, id: &str, result: &Result<pb::Status, Failure>, suspended: bool) {
        self.count(kind, result);
        match result {
            Ok(_) => self.model.end(id).own = Some(Own { suspended }),
            Err(Failure::Unknown(_)) => self.model.end(id).own = None,
            Err(Failure::Refused | Failure::NotSent) => {}
        }
    }
}

type Shared = Arc<Mutex<Ledger>>;
type Slots = Arc<Vec<tokio::sync::Mutex<Option<Conn>>>>;

async fn create_vpc(addr: SocketAddr, region: &'static str, cidr: &'static str) -> Result<String, Failure> {
    call(addr, |ch| async move {
        let request = pb::CreateVpcRequest { region_id: region.into(), cidr_block: cidr.into(), ..Default::default() };
        VpcServiceClient::new(ch).create_vpc(request).await.map(|r| r.into_inner().vpc_id)
    })
    .await
}

/// As `peering::prepare_connection`, but every step may fail: account A's initiator end and an acceptor end
/// in account B that name each other, not connected. Records each acknowledged creation.
async fn new_connection(addrs: Addrs, ledger: &Shared) -> Option<Conn> {
    let result = make_connection(addrs, ledger).await;
    ledger.lock().unwrap().count("new connection", &result);
    result.ok()
}

async fn make_connection(addrs: Addrs, ledger: &Shared) -> Result<Conn, Failure> {
    let vpc_a = create_vpc(addrs.a, "cn-hangzhou", "172.16.0.0/12").await?;
    let vpc_b = create_vpc(addrs.b, "cn-shanghai", "10.0.0.0/8").await?;
    let request = pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VpcToVpc as i32,
        routers_to_create: pb::RoutersToCreate::InitiatorOnly as i32,
        local_region_id: "cn-hangzhou".into(),
        local_router_id: vpc_a.clone(),
        peer_region_id: "cn-shanghai".into(),
        peer_router_id: vpc_b.clone(),
        peer_account_id: ACCOUNT_B.into(),
        bandwidth: "Large.1".into(),
        ..Default::default()
    };
    let initiator = call(addrs.a, |ch| async move {
        RouterInterfaceServiceClient::new(ch)
            .create_peering_connection(request)
            .await
            .map(|r| r.into_inner().initiator_interface_id)
    })
    .await?;
    ledger.lock().unwrap().model.created(&initiator);
    let request = pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VpcToVpc as i32,
        routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
        local_region_id: "cn-shanghai".into(),
        local_router_id: vpc_b,
        peer_region_id: "cn-hangzhou".into(),
        peer_router_id: vpc_a,
        peer_account_id: ACCOUNT_A.into(),
        peer_interface_id: initiator.clone(),
        ..Default::default()
    };
    let acceptor = call(addrs.b, |ch| async move {
        RouterInterfaceServiceClient::new(ch)
            .create_peering_connection(request)
            .await
            .map(|r| r.into_inner().acceptor_interface_id)
    })
    .await?;
    ledger.lock().unwrap().model.created(&acceptor);
    let request = pb::ModifyRouterInterfaceAttributeRequest {
        router_interface_id: initiator.clone(),
        opposite_interface_id: Some(acceptor.clone()),
        ..Default::default()
    };
    call(addrs.a, |ch| async move {
        RouterInterfaceServiceClient::new(ch).modify_router_interface_attribute(request).await.map(|_| ())
    })
    .await?;
    Ok(Conn { initiator, acceptor, acceptor_host: "b" })
}

/// One random operation by one owner on `conn`; returns whether the connection stays in its slot.
async fn operate(rng: &mut SplitMix64, addrs: Addrs, conn: &Conn, ledger: &Shared) -> bool {
    let (side, id, partner) = if rng.below(2) == 0 {
        (Side::A, conn.initiator.clone(), conn.acceptor.clone())
    } else {
        (Side::B, conn.acceptor.clone(), conn.initiator.clone())
    };
    let addr = addrs.of(side);
    match rng.below(20) {
        0..=4 => {
            let request =
                pb::ConnectRouterInterfaceRequest { router_interface_id: conn.initiator.clone(), ..Default::default() };
            let result = call(addrs.a, |ch| async move {
                RouterInterfaceServiceClient::new(ch).connect_router_interface(request).await.map(|r| r.into_inner())
            })
            .await;
            let mut ledger = ledger.lock().unwrap();
            ledger.count("connect", &result);
            // A connect that may have happened starts a new connection: no intent carries over.
            if matches!(result, Ok(_) | Err(Failure::Unknown(_))) {
                ledger.model.end(&conn.initiator).own = None;
                ledger.model.end(&conn.acceptor).own = None;
            }
            true
        }
        5..=10 => {
            let request =
                pb::DeactivateRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
            let result = call(addr, |ch| async move {
                RouterInterfaceServiceClient::new(ch)
                    .deactivate_router_interface(request)
                    .await
                    .map(|r| r.into_inner().status())
            })
            .await;
            ledger.lock().unwrap().record_intent("suspend", &id, &result, true);
            true
        }
        11..=16 => {
            let request = pb::ActivateRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
            let result = call(addr, |ch| async move {
                RouterInterfaceServiceClient::new(ch)
                    .activate_router_interface(request)
                    .await
                    .map(|r| r.into_inner().status())
            })
            .await;
            ledger.lock().unwrap().record_intent("activate", &id, &result, false);
            true
        }
        _ => {
            let request = pb::DeleteRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
            let result = call(addr, |ch| async move {
                RouterInterfaceServiceClient::new(ch).delete_router_interface(request).await.map(|_| ())
            })
            .await;
            let mut ledger = ledger.lock().unwrap();
            ledger.count("delete", &result);
            match result {
                Ok(()) => {
                    ledger.model.end(&id).exists = Some(false);
                    ledger.model.end(&partner).own = None;
                    false
                }
                Err(Failure::Unknown(_)) => {
                    ledger.model.end(&id).exists = None;
                    ledger.model.end(&partner).own = None;
                    false
                }
                Err(Failure::Refused | Failure::NotSent) => true,
            }
        }
    }
}

/// A user: picks a connection slot at random, and makes a connection in it or operates on it.
async fn worker(seed: u64, addrs: Addrs, slots: Slots, ledger: Shared, stop: Arc<AtomicBool>) {
    let mut rng = SplitMix64::new(seed);
    while !stop.load(Ordering::Relaxed) {
        let slot = &slots[rng.below(slots.len() as u64) as usize];
        let mut conn = slot.lock().await;
        match conn.clone() {
            None => *conn = new_connection(addrs, &ledger).await,
            Some(c) => {
                if !operate(&mut rng, addrs, &c, &ledger).await {
                    *conn = None;
                }
            }
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(rng.below(30))).await;
    }
}

/// Every end of both accounts, by id, with the account whose service answered; None if one did not answer.
async fn snapshot(addrs: Addrs) -> Option<Snapshot> {
    let mut snapshot = Snapshot::new();
    for (addr, account) in [(addrs.a, ACCOUNT_A), (addrs.b, ACCOUNT_B)] {
        let page = |page_number| async move {
            let request = pb::DescribeRouterInterfacesRequest { page_number, page_size: 50, ..Default::default() };
            let answer = call(addr, |ch| async move {
                RouterInterfaceServiceClient::new(ch).describe_router_interfaces(request).await.map(|r| r.into_inner())
            })
            .await;
            answer.ok().map(|a| a.router_interfaces)
        };
        add_account(&mut snapshot, account, page).await?;
    }
    Some(snapshot)
}

/// Checks the always-true invariants (ownership, versions that only grow) on snapshots during the load.
async fn observer(addrs: Addrs, stop: Arc<AtomicBool>) -> (HashMap<String, u64>, Vec<String>, usize) {
    let (mut max_version, mut violations, mut taken) = (HashMap::new(), Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        if let Some(snapshot) = snapshot(addrs).await {
            check_always(&snapshot, &mut max_version, &mut violations);
            taken += 1;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (max_version, violations, taken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_calls_survive_kill_9_of_either_service_under_load() {
    let seed = std::env::var("KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    println!("KILL_SEED={seed}");
    let started = Instant::now();
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let flags = Flags { transition_delay_ms: 0, settle_wait_ms: 200, connect_timeout_ms: 3000, ..Flags::default() };
    let (a, b) = start_pair(&flags, Some(a_dir.path()), Some(b_dir.path())).await;
    let addrs = Addrs { a: a.addr, b: b.addr };
    SERVICES.set(addrs).unwrap();

    // Connections agreed on before the load starts.
    let ledger: Shared = Arc::default();
    let mut slots = Vec::new();
    for _ in 0..PREPARED {
        let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
        connect(&a, &ends.initiator).await.unwrap();
        wait_agreement(&a, &b, &ends, Duration::from_secs(10)).await;
        let mut ledger = ledger.lock().unwrap();
        ledger.model.created(&ends.initiator);
        ledger.model.created(&ends.acceptor);
        slots.push(Some(Conn { initiator: ends.initiator, acceptor: ends.acceptor, acceptor_host: "b" }));
    }
    slots.resize(SLOTS, None);
    let slots: Slots = Arc::new(slots.into_iter().map(tokio::sync::Mutex::new).collect());

    // The load: owners of both accounts, concurrently.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let seed = seed ^ (w + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            tokio::spawn(worker(seed, addrs, slots.clone(), ledger.clone(), stop.clone()))
        })
        .collect();
    let observing = tokio::spawn(observer(addrs, stop.clone()));

    // The killer: SIGKILL either service at random moments, and start it again at once.
    let mut rng = SplitMix64::new(seed ^ 0x00c1_a5e5);
    let (mut a, mut b) = (a, b);
    for kill in 1..=KILLS {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1200))).await;
        let victim = if rng.below(2) == 0 { Side::A } else { Side::B };
        let at = started.elapsed();
        match victim {
            Side::A => a = a.kill().await.start().await,
            Side::B => b = b.kill().await.start().await,
        }
        assert_eq!((a.addr, b.addr), (addrs.a, addrs.b), "a restart keeps the port");
        println!("kill {kill}: {victim:?} at {at:?}, back after {:?}", started.elapsed() - at);
    }
    // Some load against the last processes, then stop it.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        tokio::time::timeout(Duration::from_secs(40), w).await.expect("a worker stopped in time").unwrap();
    }
    let (mut max_version, mut violations, taken) =
        tokio::time::timeout(Duration::from_secs(20), observing).await.expect("the observer stopped").unwrap();
    println!("load stopped at {:?}; {taken} snapshots checked during the load", started.elapsed());

    // Convergence: every invariant within the bound.
    let ledger = Arc::try_unwrap(ledger).unwrap().into_inner().unwrap();
    let deadline = Instant::now() + CONVERGE;
    let mut last = vec!["no snapshot of both services".to_owned()];
    let mut final_statuses: BTreeMap<String, usize> = BTreeMap::new();
    while Instant::now() < deadline {
        if let Some(snapshot) = snapshot(addrs).await {
            check_always(&snapshot, &mut max_version, &mut violations);
            last = check_quiescent(&snapshot, &ledger.model);
            if last.is_empty() {
                for (_, ri) in snapshot.values() {
                    *final_statuses.entry(format!("{:?}", ri.status())).or_default() += 1;
                }
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !last.is_empty() {
        violations.push(format!("convergence: not within {CONVERGE:?} after the load stopped"));
        violations.extend(last);
    }
    println!("checked at {:?}", started.elapsed());
    println!("acknowledged: {:?}", ledger.acknowledged);
    println!("refused: {:?}", ledger.refused);
    println!("unanswered: {:?} {:?}", ledger.unknown, ledger.unanswered_because);
    println!("not sent (service down): {}", ledger.not_sent);
    println!("final statuses: {final_statuses:?}");
    assert!(violations.is_empty(), "seed {seed}: {} violations:\n{}", violations.len(), violations.join("\n"));
    for kind in ["suspend", "activate", "connect"] {
        assert!(ledger.acknowledged.get(kind).copied().unwrap_or(0) > 0, "no {kind} was acknowledged: {ledger:?}");
    }
    drop((a, b));
}
