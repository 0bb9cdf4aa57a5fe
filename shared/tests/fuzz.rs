//! Property-based fuzzing of what a hostile client or peer controls: request validation, the decoding of
//! wire messages, signature checking, and the peer protocol's handling of arbitrary reports and
//! admissions, run against a real account (in-memory store). Nothing may panic, and versions only grow.
//!
//! CI runs each target with proptest's default number of cases; the long run is
//! `PROPTEST_CASES=20000 cargo test --release -p shared --test fuzz` in a loop (see TESTING.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use prost::Message;
use shared::account::{Account, BillingSettings, ModifyAttributes, NewVpc, PageRequest, PeerReports};
use shared::api::peer::v1 as peer;
use shared::api::v1 as pb;
use shared::auth::{AccessKey, SignedHeaders};
use shared::clock::SystemClock;
use shared::domain::catalog::{REGIONS, SPECS};
use shared::domain::lifecycle::ConnectRequest;
use shared::domain::model::{BusinessStatus, EndReport, OppositeConfig, Role, RouterType, Status};
use shared::domain::prices::Money;
use shared::domain::rules::{self, NewRouterInterface};
use shared::domain::{ids, text};
use shared::grpc::peer_convert;
use shared::store::SqliteStore;

const HERE: &str = "1000000000000002";
const PEER: &str = "1000000000000001";

/// Short strings, often empty, sometimes near a limit, sometimes not ASCII.
fn some_text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z][a-zA-Z0-9_. -]{0,20}",
        "\\PC{0,40}",
        "[a-z]{126,130}",
        Just("http://x".to_owned()),
    ]
}

fn some_region() -> impl Strategy<Value = String> + Clone {
    prop_oneof![proptest::sample::select(REGIONS.iter().map(|r| r.id.to_owned()).collect::<Vec<_>>()), some_text()]
}

fn some_spec() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        proptest::sample::select(SPECS.iter().map(|(s, _)| (*s).to_owned()).collect::<Vec<_>>()),
        Just("Negative".to_owned()),
        some_text()
    ]
}

fn some_status() -> impl Strategy<Value = Status> + Clone {
    proptest::sample::select(Status::ALL.to_vec())
}

/// An id from `known` most of the time, so reports hit real ends; otherwise anything.
fn some_id(known: Vec<String>) -> impl Strategy<Value = String> + Clone {
    prop_oneof![3 => proptest::sample::select(known), 1 => some_text()]
}

fn some_report(ids: Vec<String>, routers: Vec<String>) -> impl Strategy<Value = EndReport> + Clone {
    let identity = (
        some_id(ids.clone()),
        prop_oneof![Just(PEER.to_owned()), Just(HERE.to_owned()), "[0-9]{0,18}"],
        some_id(routers),
        prop_oneof![Just(RouterType::VRouter), Just(RouterType::Vbr)],
        some_region(),
    );
    let state = (
        prop_oneof![0..20u64, Just(u64::MAX), any::<u64>()],
        some_status(),
        some_spec(),
        any::<u32>(),
        proptest::sample::select(vec![
            BusinessStatus::Normal,
            BusinessStatus::FinancialLocked,
            BusinessStatus::SecurityLocked,
        ]),
        any::<bool>(),
        (prop_oneof![0..5u64, any::<u64>()], 0..5u64, 0..5u64),
    );
    let rest = (some_id(ids), some_text(), proptest::collection::vec(some_text(), 0..4), any::<bool>());
    (identity, state, rest).prop_map(
        |(
            (interface_id, owner_id, router_id, router_type, region_id),
            (version, status, spec, bandwidth, business_status, own_suspended, (intent, seen, echoed)),
            (partner_interface_id, router_cidr, routes_via, deleted),
        )| EndReport {
            interface_id,
            owner_id,
            router_id,
            router_type,
            region_id,
            version,
            status,
            spec,
            bandwidth,
            business_status,
            own_suspended,
            intent_version: intent,
            seen_intent_version: seen,
            echoed_intent_version: echoed,
            partner_interface_id,
            router_cidr,
            routes_via,
            deleted,
        },
    )
}

/// What a peer (or the owner) can do to the account.
#[derive(Debug, Clone)]
enum Step {
    Deliver(Vec<EndReport>, bool),
    Admit(Box<EndReport>, usize),
    Suspend(usize),
    Activate(usize),
    Delete(usize),
    Rename(usize, String),
}

/// An account (B) with a few acceptor ends naming initiator ends of account A, and the ids involved.
fn account_with_ends() -> (Account, Vec<String>, Vec<String>, Vec<OppositeConfig>) {
    let store = Box::new(SqliteStore::in_memory().unwrap());
    let account = Account::open(HERE, store, Arc::new(SystemClock), BillingSettings::default()).unwrap();
    let mut ids = Vec::new();
    let mut routers = Vec::new();
    let mut names = Vec::new();
    for n in 0..3 {
        let vpc = account
            .create_vpc(
                NewVpc {
                    region_id: "cn-shanghai".into(),
                    cidr_block: format!("10.{n}.0.0/16"),
                    name: String::new(),
                    description: String::new(),
                },
                "",
            )
            .unwrap();
        let initiator_id = format!("ri-fuzzinitiator{n:07}aaaaaa");
        let initiator_router = format!("vrt-fuzzrouter{n:09}aaaaaa");
        let acceptor = account
            .create_router_interface(
                NewRouterInterface {
                    region_id: "cn-shanghai".into(),
                    role: Some(Role::AcceptingSide),
                    router_type: Some(RouterType::VRouter),
                    router_id: vpc.vrouter_id.clone(),
                    opposite_region_id: "cn-hangzhou".into(),
                    opposite_router_id: initiator_router.clone(),
                    opposite_interface_id: initiator_id.clone(),
                    opposite_interface_owner_id: PEER.into(),
                    ..Default::default()
                },
                "",
            )
            .unwrap();
        names.push(OppositeConfig {
            region_id: "cn-shanghai".into(),
            router_id: vpc.vrouter_id.clone(),
            router_type: Some(RouterType::VRouter),
            interface_id: acceptor.clone(),
            owner_id: HERE.into(),
            access_point_id: String::new(),
        });
        ids.extend([acceptor, initiator_id]);
        routers.extend([vpc.vrouter_id, initiator_router]);
    }
    (account, ids, routers, names)
}

fn some_steps(ids: Vec<String>, routers: Vec<String>) -> impl Strategy<Value = Vec<Step>> {
    let report = some_report(ids, routers);
    let step = prop_oneof![
        4 => (proptest::collection::vec(report.clone(), 0..4), any::<bool>()).prop_map(|(r, full)| Step::Deliver(r, full)),
        3 => (report, 0..3usize).prop_map(|(r, n)| Step::Admit(Box::new(r), n)),
        1 => (0..6usize).prop_map(Step::Suspend),
        1 => (0..6usize).prop_map(Step::Activate),
        1 => (0..6usize).prop_map(Step::Delete),
        1 => (0..6usize, some_text()).prop_map(|(n, name)| Step::Rename(n, name)),
    ];
    proptest::collection::vec(step, 1..24)
}

proptest! {
    /// The peer protocol: any sequence of reports and admissions, mixed with the owner's calls, never
    /// panics, and no end's version ever goes down.
    #[test]
    fn the_peer_protocol_survives_any_messages(
        steps in { let (_, ids, routers, _) = account_with_ends(); some_steps(ids, routers) }
    ) {
        let (account, ids, _, names) = account_with_ends();
        let mut versions: HashMap<String, u64> = HashMap::new();
        for step in steps {
            let id = |n: usize| ids[n % ids.len()].clone();
            let _ = match step {
                Step::Deliver(reports, full) => account.apply_peer_reports(PEER, &PeerReports { reports, full, ..PeerReports::default() }).map(|_| ()),
                Step::Admit(initiator, n) => account
                    .admit_remote(PEER, &ConnectRequest { initiator: *initiator, names: names[n % names.len()].clone() })
                    .map(|_| ()),
                Step::Suspend(n) => account.deactivate_router_interface(&id(n), "").map(|_| ()),
                Step::Activate(n) => account.activate_router_interface(&id(n), "").map(|_| ()),
                Step::Delete(n) => account.delete_router_interface(&id(n), ""),
                Step::Rename(n, name) => account.modify_router_interface_attribute(
                    ModifyAttributes { router_interface_id: id(n), name: Some(name), ..Default::default() },
                    "",
                ),
            };
            let page = account.describe_router_interfaces(&Default::default(), PageRequest::new(1, 50).unwrap()).unwrap();
            for ri in page.items {
                let last = versions.insert(ri.router_interface_id.clone(), ri.version).unwrap_or(0);
                prop_assert!(ri.version >= last, "{} went from version {last} to {}", ri.router_interface_id, ri.version);
            }
        }
    }

    /// Any bytes, decoded as the messages a client or a peer sends, then converted as the services do.
    #[test]
    fn wire_messages_decode_and_convert_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = pb::CreateRouterInterfaceRequest::decode(&bytes[..]);
        let _ = pb::CreatePeeringConnectionRequest::decode(&bytes[..]);
        let _ = pb::CreateRouteEntryRequest::decode(&bytes[..]);
        let _ = pb::AdvanceClockRequest::decode(&bytes[..]);
        if let Ok(request) = peer::DeliverRequest::decode(&bytes[..]) {
            for report in request.reports {
                let _ = peer_convert::report_from_pb(report);
            }
        }
        if let Ok(request) = peer::AdmitRequest::decode(&bytes[..]) {
            let _ = peer_convert::admit_request_from_pb(request);
        }
    }

    /// Every field of CreateRouterInterface, anything at all: a clear refusal or a checked command.
    #[test]
    fn router_interface_rules_take_any_input(
        region_id in some_region(), router_id in some_text(), spec in some_spec(), opposite_region_id in some_region(),
        opposite_router_id in some_text(), opposite_interface_id in some_text(), owner in "[0-9]{0,20}",
        access_point_id in some_text(), name in some_text(), description in some_text(), period in any::<i32>(),
        source_ip in some_text(), target_ip in some_text(), role in 0..3u8, router_type in 0..3u8,
    ) {
        let cmd = NewRouterInterface {
            region_id, role: [None, Some(Role::InitiatingSide), Some(Role::AcceptingSide)][role as usize],
            router_type: [None, Some(RouterType::VRouter), Some(RouterType::Vbr)][router_type as usize],
            router_id, spec, opposite_region_id, opposite_router_id, opposite_interface_id,
            opposite_interface_owner_id: owner, access_point_id, name, description, period,
            health_check_source_ip: source_ip, health_check_target_ip: target_ip,
            ..Default::default()
        };
        if let Err(e) = rules::check_new_router_interface(&cmd) {
            prop_assert!(!e.reason.is_empty() && !e.message.is_empty());
        }
    }

    /// The small parsers every request goes through.
    #[test]
    fn parsers_take_any_text(input in "\\PC{0,80}", number in any::<i32>(), size in any::<i32>()) {
        let _ = Money::parse("amount", &input);
        let _ = text::vpc_cidr("cidr_block", &input);
        let _ = text::route_cidr("destination_cidr_block", &input);
        let _ = text::stored_cidr(&input);
        let _ = text::ipv4("destination_ip", &input);
        let _ = text::name("name", &input);
        let _ = text::description("description", &input);
        let _ = text::client_token(&input);
        let _ = ids::parse("router_interface_id", ids::ROUTER_INTERFACE, &input);
        let _ = ids::parse_account("account_id", &input);
        let _ = PageRequest::new(number, size);
    }

    /// Signature checking takes any header values.
    #[test]
    fn signatures_take_any_headers(id in "\\PC{0,40}", date in "\\PC{0,40}", nonce in "\\PC{0,70}", signature in "\\PC{0,80}") {
        let key = AccessKey { access_key_id: "LTAIfuzz".into(), access_key_secret: "secret".into() };
        let headers = SignedHeaders { access_key_id: id, date, nonce, signature };
        prop_assert!(!shared::auth::verify(&key, "/expressconnect.v1.VpcService/CreateVpc", &headers));
    }
}

/// Found by the fuzzer: a peer whose end reached the largest version, then a full resync without it,
/// overflowed the version of the deletion this account infers (a panic in a debug build).
#[test]
fn a_partner_at_the_largest_version_that_disappears_does_not_overflow() {
    let (account, ids, routers, names) = account_with_ends();
    let initiator = EndReport {
        interface_id: ids[1].clone(),
        owner_id: PEER.into(),
        router_id: routers[1].clone(),
        router_type: RouterType::VRouter,
        region_id: "cn-hangzhou".into(),
        version: u64::MAX,
        status: Status::Connecting,
        spec: "Large.1".into(),
        bandwidth: 1000,
        business_status: BusinessStatus::Normal,
        own_suspended: false,
        intent_version: 0,
        seen_intent_version: 0,
        echoed_intent_version: 0,
        partner_interface_id: String::new(),
        router_cidr: String::new(),
        routes_via: Vec::new(),
        deleted: false,
    };
    account.admit_remote(PEER, &ConnectRequest { initiator, names: names[0].clone() }).unwrap();
    // A resync names every end first, and reports them in deliveries of their own: a named end is there.
    let named = PeerReports { full: true, present: vec![ids[1].clone()], ..PeerReports::default() };
    account.apply_peer_reports(PEER, &named).unwrap();
    let ri = account.describe_router_interface(&ids[0]).unwrap();
    assert_eq!(ri.status, Status::Accepting, "the partner is named: {ri:?}");
    account.apply_peer_reports(PEER, &PeerReports { full: true, ..PeerReports::default() }).unwrap();
    let ri = account.describe_router_interface(&ids[0]).unwrap();
    assert_eq!(ri.status, Status::Idle, "the partner is gone: {ri:?}");
}
