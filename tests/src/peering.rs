//! Two (or three) accounts' services that peer, and the checks every cross-account test needs.

use std::path::Path;
use std::time::Duration;

use crate::{ACCOUNT_A, ACCOUNT_B, Binary, Service, create_vpc, describe, pb};

/// Flags for a test's services; all optional.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub transition_delay_ms: u64,
    /// 0 means the binary's default.
    pub settle_wait_ms: u64,
    pub connect_timeout_ms: u64,
    /// The balance a new account starts with; `None` means the binary's default.
    pub initial_balance: Option<&'static str>,
    /// Any other flags, for both services.
    pub extra: Vec<String>,
}

impl Flags {
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--transition-delay-ms".to_owned(), self.transition_delay_ms.to_string()];
        if self.settle_wait_ms > 0 {
            args.extend(["--settle-wait-ms".to_owned(), self.settle_wait_ms.to_string()]);
        }
        if self.connect_timeout_ms > 0 {
            args.extend(["--connect-timeout-ms".to_owned(), self.connect_timeout_ms.to_string()]);
        }
        if let Some(balance) = self.initial_balance {
            args.extend(["--initial-balance".to_owned(), balance.to_owned()]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }
}

/// The secret the harness gives a pair of accounts for their peer link (both services get it).
pub fn peer_key(initiator: &str, acceptor: &str) -> String {
    shared::auth::development_secret(initiator, acceptor)
}

/// Starts an acceptor-svc as `account_id`, sharing a peer secret with account A.
pub async fn start_acceptor(account_id: &str, data_dir: Option<&Path>, flags: &Flags) -> Service {
    let mut args = vec!["--account-id".to_owned(), account_id.to_owned()];
    args.extend(["--peer-key".to_owned(), format!("{ACCOUNT_A}={}", peer_key(ACCOUNT_A, account_id))]);
    args.extend(flags.args());
    Service::start_with(Binary::Acceptor, data_dir, "127.0.0.1:0".parse().unwrap(), &args).await
}

/// Starts an initiator-svc as account A that dials each of `peers`.
pub async fn start_initiator(peers: &[(&str, &Service)], data_dir: Option<&Path>, flags: &Flags) -> Service {
    let mut args = vec!["--account-id".to_owned(), ACCOUNT_A.to_owned()];
    for (account, service) in peers {
        args.extend(["--peer".to_owned(), format!("{account}={}", service.url())]);
        args.extend(["--peer-key".to_owned(), format!("{account}={}", peer_key(ACCOUNT_A, account))]);
    }
    args.extend(flags.args());
    Service::start_with(Binary::Initiator, data_dir, "127.0.0.1:0".parse().unwrap(), &args).await
}

/// Account B's acceptor service and account A's initiator service dialling it.
pub async fn start_pair(flags: &Flags, a_dir: Option<&Path>, b_dir: Option<&Path>) -> (Service, Service) {
    let b = start_acceptor(ACCOUNT_B, b_dir, flags).await;
    let a = start_initiator(&[(ACCOUNT_B, &b)], a_dir, flags).await;
    (a, b)
}

/// The two ends of one cross-account connection.
#[derive(Debug, Clone)]
pub struct Ends {
    pub initiator: String,
    pub acceptor: String,
}

/// What the initiator's owner picks in the console form: where each VPC is, the bandwidth, and how the
/// initiator end is paid for.
#[derive(Debug, Clone)]
pub struct Terms {
    pub a_region: &'static str,
    pub b_region: &'static str,
    pub bandwidth: &'static str,
    pub charge_type: pb::InstanceChargeType,
    pub pricing_cycle: pb::PricingCycle,
    pub period: i32,
    pub auto_renew: bool,
}

impl Default for Terms {
    /// Pay-as-you-go Large.1 from cn-hangzhou to cn-shanghai.
    fn default() -> Self {
        Self {
            a_region: "cn-hangzhou",
            b_region: "cn-shanghai",
            bandwidth: "Large.1",
            charge_type: pb::InstanceChargeType::Unspecified,
            pricing_cycle: pb::PricingCycle::Unspecified,
            period: 0,
            auto_renew: false,
        }
    }
}

/// Makes, as the console does across accounts, an initiator end in `a` (account A) and an acceptor end in
/// `b` (account `b_account`) that name each other, not yet connected. Each call uses new VPCs.
pub async fn prepare_connection(a: &Service, b: &Service, b_account: &str) -> Ends {
    prepare_connection_with(a, b, b_account, &Terms::default()).await
}

/// [`prepare_connection`] on the given terms.
pub async fn prepare_connection_with(a: &Service, b: &Service, b_account: &str, terms: &Terms) -> Ends {
    let vpc_a = create_vpc(&mut a.vpcs().await, terms.a_region, "172.16.0.0/12").await.0;
    let vpc_b = create_vpc(&mut b.vpcs().await, terms.b_region, "10.0.0.0/8").await.0;
    ends_between(a, b, b_account, &vpc_a, &vpc_b, terms).await
}

/// The two ends of a new connection between existing VPCs: `vpc_a` of account A in `a`, `vpc_b` of
/// `b_account` in `b` (regions as `terms` say), named to each other, not yet connected.
pub async fn ends_between(a: &Service, b: &Service, b_account: &str, vpc_a: &str, vpc_b: &str, terms: &Terms) -> Ends {
    let (mut ris_a, mut ris_b) = (a.router_interfaces().await, b.router_interfaces().await);
    let form = |create, local, peer| {
        shared::api::peering_form(pb::AccountType::Different, pb::ConnectionType::VpcToVpc, create, local, peer)
    };
    let initiator = ris_a
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            peer_account_id: b_account.into(),
            bandwidth: terms.bandwidth.into(),
            instance_charge_type: terms.charge_type as i32,
            pricing_cycle: terms.pricing_cycle as i32,
            period: terms.period,
            auto_renew: terms.auto_renew,
            ..form(pb::RoutersToCreate::InitiatorOnly, (terms.a_region, vpc_a), (terms.b_region, vpc_b))
        })
        .await
        .unwrap()
        .into_inner()
        .initiator_interface_id;
    let acceptor = ris_b
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            peer_account_id: ACCOUNT_A.into(),
            peer_interface_id: initiator.clone(),
            ..form(pb::RoutersToCreate::AcceptorOnly, (terms.b_region, vpc_b), (terms.a_region, vpc_a))
        })
        .await
        .unwrap()
        .into_inner()
        .acceptor_interface_id;
    ris_a
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: initiator.clone(),
            opposite_interface_id: Some(acceptor.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    Ends { initiator, acceptor }
}

/// Polls `id` on `svc` until `done` holds for it, or panics after `within`.
pub async fn wait_for(
    svc: &Service,
    id: &str,
    within: Duration,
    what: &str,
    done: impl Fn(&pb::RouterInterface) -> bool,
) -> pb::RouterInterface {
    let mut client = svc.router_interfaces().await;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let ri = describe(&mut client, id).await;
        if done(&ri) {
            return ri;
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} never became {what} within {within:?}; last: {ri:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_status(svc: &Service, id: &str, status: pb::Status, within: Duration) -> pb::RouterInterface {
    wait_for(svc, id, within, &format!("{status:?}"), |ri| ri.status() == status).await
}

/// Waits until both ends report the same, stable status and each end's view of the other matches it
/// (the protocol's agreement rule), and returns both views.
pub async fn wait_agreement(
    a: &Service,
    b: &Service,
    ends: &Ends,
    within: Duration,
) -> (pb::RouterInterface, pb::RouterInterface) {
    let (mut ris_a, mut ris_b) = (a.router_interfaces().await, b.router_interfaces().await);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let i = describe(&mut ris_a, &ends.initiator).await;
        let ac = describe(&mut ris_b, &ends.acceptor).await;
        if agree(&i, &ac) {
            return (i, ac);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no agreement within {within:?}:\n initiator {i:?}\n acceptor {ac:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Agreement: the same stable status, each end's view of the other is the other's own state, and both
/// say the same about who holds the connection suspended.
pub fn agree(i: &pb::RouterInterface, ac: &pb::RouterInterface) -> bool {
    let stable = matches!(i.status(), pb::Status::Activated | pb::Status::Suspended | pb::Status::Idle);
    let mut by_i = i.suspended_by.clone();
    let mut by_ac = ac.suspended_by.clone();
    by_i.sort();
    by_ac.sort();
    stable
        && i.status() == ac.status()
        && i.opposite_interface_status() == ac.status()
        && ac.opposite_interface_status() == i.status()
        && i.opposite_interface_id == ac.router_interface_id
        && ac.opposite_interface_id == i.router_interface_id
        && i.opposite_router_id == ac.router_id
        && ac.opposite_router_id == i.router_id
        && i.opposite_interface_owner_id == ac.owner_id
        && ac.opposite_interface_owner_id == i.owner_id
        && (i.status() == pb::Status::Idle
            || (ac.opposite_interface_spec == i.spec && ac.opposite_bandwidth == i.bandwidth))
        && by_i == by_ac
}

pub async fn connect(svc: &Service, id: &str) -> Result<pb::Status, tonic::Status> {
    let request = pb::ConnectRouterInterfaceRequest { router_interface_id: id.into(), ..Default::default() };
    svc.router_interfaces().await.connect_router_interface(request).await.map(|r| r.into_inner().status())
}

pub async fn suspend(svc: &Service, id: &str) -> Result<pb::Status, tonic::Status> {
    let request = pb::DeactivateRouterInterfaceRequest { router_interface_id: id.into(), ..Default::default() };
    svc.router_interfaces().await.deactivate_router_interface(request).await.map(|r| r.into_inner().status())
}

pub async fn activate(svc: &Service, id: &str) -> Result<pb::Status, tonic::Status> {
    let request = pb::ActivateRouterInterfaceRequest { router_interface_id: id.into(), ..Default::default() };
    svc.router_interfaces().await.activate_router_interface(request).await.map(|r| r.into_inner().status())
}

pub async fn delete(svc: &Service, id: &str) -> Result<(), tonic::Status> {
    let request = pb::DeleteRouterInterfaceRequest { router_interface_id: id.into(), ..Default::default() };
    svc.router_interfaces().await.delete_router_interface(request).await.map(|_| ())
}
