//! The simulated users: owners of all three accounts calling the public API at random, asking for
//! faults as they go, then waiting for the network to heal and checking the invariants.

use shared::auth::{Credentials, Signed};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use shared::api::v1::vpc_service_client::VpcServiceClient;
use shared::api::v1::{self as pb, router_interface_service_client::RouterInterfaceServiceClient};
use shared::random::SplitMix64;
use tonic::Code;

use crate::checker::{self, Snapshot, add_account};
use crate::faults::Fault;
use crate::model::{Conn, Model, Own};
use crate::net::{PORT, channel};
use crate::{ACCOUNTS, CONVERGENCE_BOUND};

/// How long a user waits for an answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// What the driver and the simulation loop share (one thread).
#[derive(Debug, Default)]
pub struct Board {
    /// Faults to inject or heal, in order: (inject?, fault).
    pub requests: VecDeque<(bool, Fault)>,
    pub operations_done: bool,
    pub healed: bool,
    pub operations: usize,
    pub faults: usize,
    pub violations: Vec<String>,
    /// Calls answered OK, by kind, and the statuses of all ends once converged: to see what a run did.
    pub acknowledged: std::collections::BTreeMap<&'static str, usize>,
    pub final_statuses: std::collections::BTreeMap<String, usize>,
}

pub type Shared = Rc<RefCell<Board>>;

fn account_of(host: &str) -> &'static str {
    ACCOUNTS.iter().find(|(h, _)| *h == host).map_or("", |(_, a)| a)
}

/// A channel to `host`, signing every call with its account's key (the hosts run with the development keys).
type Client = Signed<tonic::transport::Channel>;

async fn signed(host: &str) -> Result<Client, tonic::Status> {
    let key = Credentials::development(account_of(host)).account;
    channel(format!("http://{host}:{PORT}"))
        .await
        .map(|channel| Signed::new(channel, key))
        .map_err(|e| tonic::Status::unavailable(e.to_string()))
}

async fn ris(host: &str) -> Result<RouterInterfaceServiceClient<Client>, tonic::Status> {
    signed(host).await.map(RouterInterfaceServiceClient::new)
}

async fn vpcs(host: &str) -> Result<VpcServiceClient<Client>, tonic::Status> {
    signed(host).await.map(VpcServiceClient::new)
}

/// Runs a call with the user's patience; a timeout is an unanswered call.
async fn answered<T>(call: impl std::future::Future<Output = Result<T, tonic::Status>>) -> Result<T, tonic::Status> {
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer")))
}

/// Whether a failed call certainly changed nothing (a refusal) rather than maybe (no answer).
fn refused(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::FailedPrecondition | Code::InvalidArgument | Code::NotFound)
}

pub struct Driver {
    rng: SplitMix64,
    board: Shared,
    model: Model,
    max_version: HashMap<String, u64>,
    operations: usize,
    faults: usize,
}

impl Driver {
    pub fn new(seed: u64, board: Shared, operations: usize, faults: usize) -> Self {
        Self {
            rng: SplitMix64::new(seed ^ 0x5eed),
            board,
            model: Model::default(),
            max_version: HashMap::new(),
            operations,
            faults,
        }
    }

    pub async fn run(mut self) -> turmoil::Result {
        // Faults at spread-out operations, each healed a few operations later.
        let mut heal_at: Vec<(usize, Fault)> = Vec::new();
        let fault_every = (self.operations / self.faults.max(1)).max(1);
        for op in 0..self.operations {
            if op % fault_every == fault_every / 2 && self.board.borrow().faults < self.faults {
                let fault = self.pick_fault();
                let heal = op + 1 + self.rng.below(8) as usize;
                self.board.borrow_mut().requests.push_back((true, fault.clone()));
                self.board.borrow_mut().faults += 1;
                heal_at.push((heal, fault));
            }
            let (due, later): (Vec<_>, Vec<_>) = heal_at.into_iter().partition(|(at, _)| *at <= op);
            heal_at = later;
            for (_, fault) in due {
                self.board.borrow_mut().requests.push_back((false, fault));
            }
            self.operate().await;
            self.board.borrow_mut().operations += 1;
            tokio::time::sleep(Duration::from_millis(self.rng.below(300))).await;
        }
        self.board.borrow_mut().operations_done = true;
        while !self.board.borrow().healed {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.converge().await;
        Ok(())
    }

    fn pick_fault(&mut self) -> Fault {
        let acceptor = if self.rng.below(2) == 0 { "b" } else { "c" };
        match self.rng.below(5) {
            0 => Fault::Partition("a", acceptor),
            1 if self.rng.below(2) == 0 => Fault::PartitionOneway("a", acceptor),
            1 => Fault::PartitionOneway(acceptor, "a"),
            2 => Fault::Hold("a", acceptor),
            3 => Fault::Crash("a"),
            _ => Fault::Crash(acceptor),
        }
    }

    /// One random operation by one owner.
    async fn operate(&mut self) {
        let conns = self.model.conns.len();
        if conns == 0 || (conns < 6 && self.rng.below(6) == 0) {
            let acceptor = if self.rng.below(2) == 0 { "b" } else { "c" };
            self.new_connection(acceptor).await;
            return;
        }
        let conn = self.model.conns[self.rng.below(conns as u64) as usize].clone();
        let (host, id, partner) = if self.rng.below(2) == 0 {
            ("a", conn.initiator.clone(), conn.acceptor.clone())
        } else {
            (conn.acceptor_host, conn.acceptor.clone(), conn.initiator.clone())
        };
        match self.rng.below(10) {
            0..=2 => {
                let result = self
                    .call_ri(
                        "a",
                        |mut c, id| async move {
                            c.connect_router_interface(pb::ConnectRouterInterfaceRequest {
                                router_interface_id: id,
                                ..Default::default()
                            })
                            .await
                            .map(|_| ())
                        },
                        &conn.initiator,
                    )
                    .await;
                self.acknowledge("connect", &result);
                // Whatever the answer, a new connection may start: no intent carries over.
                self.model.end(&conn.initiator).own = None;
                self.model.end(&conn.acceptor).own = None;
            }
            3..=4 => self.set_intent(host, &id, true).await,
            5..=7 => self.set_intent(host, &id, false).await,
            _ => {
                let result = self
                    .call_ri(
                        host,
                        |mut c, id| async move {
                            c.delete_router_interface(pb::DeleteRouterInterfaceRequest {
                                router_interface_id: id,
                                ..Default::default()
                            })
                            .await
                            .map(|_| ())
                        },
                        &id,
                    )
                    .await;
                self.acknowledge("delete", &result);
                match result {
                    Ok(()) => {
                        self.model.end(&id).exists = Some(false);
                        self.model.end(&partner).own = None;
                        self.model.conns.retain(|c| c.initiator != id && c.acceptor != id);
                    }
                    Err(e) if refused(&e) => {}
                    Err(_) => {
                        self.model.end(&id).exists = None;
                        self.model.end(&partner).own = None;
                    }
                }
            }
        }
        self.observe().await;
    }

    fn acknowledge(&self, kind: &'static str, result: &Result<(), tonic::Status>) {
        if result.is_ok() {
            *self.board.borrow_mut().acknowledged.entry(kind).or_default() += 1;
        }
    }

    /// Suspends (Deactivate) or activates `id` as its owner, and records what the owner was told.
    async fn set_intent(&mut self, host: &str, id: &str, suspended: bool) {
        let result = self
            .call_ri(
                host,
                |mut c, id| async move {
                    if suspended {
                        let request =
                            pb::DeactivateRouterInterfaceRequest { router_interface_id: id, ..Default::default() };
                        c.deactivate_router_interface(request).await.map(|_| ())
                    } else {
                        let request =
                            pb::ActivateRouterInterfaceRequest { router_interface_id: id, ..Default::default() };
                        c.activate_router_interface(request).await.map(|_| ())
                    }
                },
                id,
            )
            .await;
        self.record_intent(id, result, suspended);
    }

    fn record_intent(&mut self, id: &str, result: Result<(), tonic::Status>, suspended: bool) {
        self.acknowledge(if suspended { "suspend" } else { "activate" }, &result);
        match result {
            Ok(()) => self.model.end(id).own = Some(Own { suspended }),
            Err(e) if refused(&e) => {}
            Err(_) => self.model.end(id).own = None,
        }
    }

    async fn call_ri<F, Fut>(&self, host: &str, call: F, id: &str) -> Result<(), tonic::Status>
    where
        F: FnOnce(RouterInterfaceServiceClient<Client>, String) -> Fut,
        Fut: std::future::Future<Output = Result<(), tonic::Status>>,
    {
        answered(async { call(ris(host).await?, id.to_owned()).await }).await
    }

    /// Account A's initiator end and an acceptor end of `acceptor`, naming each other, not connected.
    async fn new_connection(&mut self, acceptor: &'static str) {
        let made: Result<Conn, tonic::Status> = answered(async {
            let vpc_a = vpcs("a")
                .await?
                .create_vpc(pb::CreateVpcRequest {
                    region_id: "cn-hangzhou".into(),
                    cidr_block: "172.16.0.0/12".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .vpc_id;
            let vpc_b = vpcs(acceptor)
                .await?
                .create_vpc(pb::CreateVpcRequest {
                    region_id: "cn-shanghai".into(),
                    cidr_block: "10.0.0.0/8".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .vpc_id;
            let initiator = ris("a")
                .await?
                .create_peering_connection(pb::CreatePeeringConnectionRequest {
                    account_type: pb::AccountType::Different as i32,
                    connection_type: pb::ConnectionType::VpcToVpc as i32,
                    routers_to_create: pb::RoutersToCreate::InitiatorOnly as i32,
                    local_region_id: "cn-hangzhou".into(),
                    local_router_id: vpc_a.clone(),
                    peer_region_id: "cn-shanghai".into(),
                    peer_router_id: vpc_b.clone(),
                    peer_account_id: account_of(acceptor).into(),
                    bandwidth: "Large.1".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .initiator_interface_id;
            self.model.created(&initiator);
            let acceptor_end = ris(acceptor)
                .await?
                .create_peering_connection(pb::CreatePeeringConnectionRequest {
                    account_type: pb::AccountType::Different as i32,
                    connection_type: pb::ConnectionType::VpcToVpc as i32,
                    routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
                    local_region_id: "cn-shanghai".into(),
                    local_router_id: vpc_b,
                    peer_region_id: "cn-hangzhou".into(),
                    peer_router_id: vpc_a,
                    peer_account_id: account_of("a").into(),
                    peer_interface_id: initiator.clone(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .acceptor_interface_id;
            self.model.created(&acceptor_end);
            ris("a")
                .await?
                .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
                    router_interface_id: initiator.clone(),
                    opposite_interface_id: Some(acceptor_end.clone()),
                    ..Default::default()
                })
                .await?;
            Ok(Conn { initiator, acceptor: acceptor_end, acceptor_host: acceptor })
        })
        .await;
        if let Ok(conn) = made {
            self.model.conns.push(conn);
            *self.board.borrow_mut().acknowledged.entry("new connection").or_default() += 1;
        }
    }

    /// Every end of every account, or None if some service did not answer.
    async fn snapshot(&self) -> Option<Snapshot> {
        let mut snapshot = Snapshot::new();
        for (host, account) in ACCOUNTS {
            let page = |page_number| async move {
                let request = pb::DescribeRouterInterfacesRequest { page_number, page_size: 50, ..Default::default() };
                let answer = answered(async { ris(host).await?.describe_router_interfaces(request).await }).await;
                answer.ok().map(|a| a.into_inner().router_interfaces)
            };
            add_account(&mut snapshot, account, page).await?;
        }
        Some(snapshot)
    }

    /// The always-true checks, on whatever the services answer now.
    async fn observe(&mut self) {
        if let Some(snapshot) = self.snapshot().await {
            let mut violations = Vec::new();
            checker::check_always(&snapshot, &mut self.max_version, &mut violations);
            self.board.borrow_mut().violations.extend(violations);
        }
    }

    /// After the network healed: every invariant must hold within the bound.
    async fn converge(&mut self) {
        let deadline = tokio::time::Instant::now() + CONVERGENCE_BOUND;
        let mut last = vec!["no service answered".to_owned()];
        while tokio::time::Instant::now() < deadline {
            if let Some(snapshot) = self.snapshot().await {
                let mut always = Vec::new();
                checker::check_always(&snapshot, &mut self.max_version, &mut always);
                self.board.borrow_mut().violations.extend(always);
                last = checker::check_quiescent(&snapshot, &self.model);
                if last.is_empty() {
                    let mut board = self.board.borrow_mut();
                    for (_, ri) in snapshot.values() {
                        *board.final_statuses.entry(format!("{:?}", ri.status())).or_default() += 1;
                    }
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let mut board = self.board.borrow_mut();
        board.violations.push(format!("convergence: not within {CONVERGENCE_BOUND:?} after the network healed"));
        board.violations.extend(last);
    }
}
