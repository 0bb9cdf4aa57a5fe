//! Two accounts, two services, one connection, and two views of it that must agree: the seed's status
//! table end to end, the suspension rules of both owners, and consent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use scenario_tests::peering::{
    Ends, Flags, activate, connect, prepare_connection, start_pair, suspend, wait_agreement, wait_status,
};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Service, describe, pb, reason};
use tonic::Code;

const SETTLE: Duration = Duration::from_secs(10);

/// Records every status each end of a service goes through, from WatchRouterInterfaces.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(String, pb::Status)>>>);

impl Recorder {
    async fn watch(svc: &Service) -> Self {
        let recorder = Recorder::default();
        let mut stream = svc
            .router_interfaces()
            .await
            .watch_router_interfaces(pb::WatchRouterInterfacesRequest::default())
            .await
            .unwrap()
            .into_inner();
        let seen = recorder.0.clone();
        tokio::spawn(async move {
            while let Ok(Some(event)) = stream.message().await {
                let ri = event.router_interface.unwrap();
                let mut seen = seen.lock().unwrap();
                if seen.last().is_none_or(|(id, s)| *id != ri.router_interface_id || *s != ri.status()) {
                    seen.push((ri.router_interface_id.clone(), ri.status()));
                }
            }
        });
        recorder
    }

    /// The statuses `id` went through, without repeats.
    fn statuses(&self, id: &str) -> Vec<pb::Status> {
        let mut out: Vec<pb::Status> = Vec::new();
        for (_, s) in self.0.lock().unwrap().iter().filter(|(i, _)| i == id) {
            if out.last() != Some(s) {
                out.push(*s);
            }
        }
        out
    }
}

fn contains_in_order(seen: &[pb::Status], expected: &[pb::Status]) -> bool {
    let mut it = seen.iter();
    expected.iter().all(|e| it.any(|s| s == e))
}

async fn connected_pair(flags: &Flags) -> (Service, Service, Ends) {
    let (a, b) = start_pair(flags, None, None).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));
    (a, b, ends)
}

/// The seed's table, every row observed on both sides, transitional statuses included.
#[tokio::test]
async fn the_seed_status_table_across_two_accounts() {
    // A delay before every peer message makes the transitional statuses last long enough to see.
    let flags = Flags { transition_delay_ms: 150, settle_wait_ms: 100, ..Flags::default() };
    let (a, b) = start_pair(&flags, None, None).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    let (watch_a, watch_b) = (Recorder::watch(&a).await, Recorder::watch(&b).await);

    // The initiator initiates a connection: Connecting / Accepting, then Activated / Activated.
    assert_eq!(connect(&a, &ends.initiator).await.unwrap(), pb::Status::Connecting);
    wait_status(&b, &ends.acceptor, pb::Status::Accepting, SETTLE).await;
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));
    assert_eq!((ac.opposite_interface_spec.as_str(), ac.opposite_bandwidth), ("Large.1", 1000));
    assert_eq!(
        (i.opposite_interface_spec.as_str(), i.opposite_interface_business_status()),
        ("Negative", pb::BusinessStatus::Normal)
    );

    // Suspended: Suspending / Suspending, then Suspended / Suspended.
    assert_eq!(suspend(&a, &ends.initiator).await.unwrap(), pb::Status::Suspending);
    wait_status(&b, &ends.acceptor, pb::Status::Suspending, SETTLE).await;
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Suspended, pb::Status::Suspended));

    // Re-initiated: Activating / Activating, then Activated / Activated.
    assert_eq!(activate(&a, &ends.initiator).await.unwrap(), pb::Status::Activating);
    wait_status(&b, &ends.acceptor, pb::Status::Activating, SETTLE).await;
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));

    use pb::Status::*;
    let seen_a = watch_a.statuses(&ends.initiator);
    let seen_b = watch_b.statuses(&ends.acceptor);
    assert!(
        contains_in_order(&seen_a, &[Connecting, Activated, Suspending, Suspended, Activating, Activated]),
        "the initiator's statuses: {seen_a:?}"
    );
    assert!(
        contains_in_order(&seen_b, &[Accepting, Activated, Suspending, Suspended, Activating, Activated]),
        "the acceptor's statuses: {seen_b:?}"
    );
}

#[tokio::test]
async fn either_owner_suspends_and_only_the_suspending_owner_activates() {
    let (a, b, ends) = connected_pair(&Flags::default()).await;

    // Suspended by the initiator: the acceptor's owner cannot lift it.
    suspend(&a, &ends.initiator).await.unwrap();
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), i.suspended_by.clone()), (pb::Status::Suspended, vec![ACCOUNT_A.to_owned()]));
    let before = describe(&mut b.router_interfaces().await, &ends.acceptor).await;
    let err = activate(&b, &ends.acceptor).await.unwrap_err();
    assert_eq!((err.code(), reason(&err).as_str()), (Code::FailedPrecondition, "IncorrectStatus"));
    assert!(err.message().contains(ACCOUNT_A), "says who suspended it: {}", err.message());
    assert_eq!(describe(&mut b.router_interfaces().await, &ends.acceptor).await, before, "a refusal changes nothing");
    assert_eq!(activate(&a, &ends.initiator).await.unwrap(), pb::Status::Activated);
    wait_agreement(&a, &b, &ends, SETTLE).await;

    // Suspended by the acceptor: the initiator's owner cannot lift it, and Describe says why.
    suspend(&b, &ends.acceptor).await.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.suspended_by.clone()), (pb::Status::Suspended, vec![ACCOUNT_B.to_owned()]));
    assert!(i.status_reason.contains(ACCOUNT_B), "{}", i.status_reason);
    let err = activate(&a, &ends.initiator).await.unwrap_err();
    assert_eq!(reason(&err), "IncorrectStatus");
    assert_eq!(activate(&b, &ends.acceptor).await.unwrap(), pb::Status::Activated);
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!(i.status(), pb::Status::Activated);
}

#[tokio::test]
async fn concurrent_operations_from_both_owners_end_in_agreement() {
    let (a, b, ends) = connected_pair(&Flags::default()).await;

    // Both suspend at once: Suspended, held by both.
    let (ra, rb) = tokio::join!(suspend(&a, &ends.initiator), suspend(&b, &ends.acceptor));
    ra.unwrap();
    rb.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Suspended, pb::Status::Suspended));
    let mut by = i.suspended_by.clone();
    by.sort();
    assert_eq!(by, vec![ACCOUNT_A.to_owned(), ACCOUNT_B.to_owned()]);

    // One owner lifts its suspension: still Suspended by the other, on both sides.
    activate(&a, &ends.initiator).await.unwrap();
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), i.suspended_by.clone()), (pb::Status::Suspended, vec![ACCOUNT_B.to_owned()]));
    activate(&b, &ends.acceptor).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;

    // Activate racing suspend, many times: whatever the interleaving, the two views agree, and the
    // outcome follows the calls that succeeded.
    for round in 0..10 {
        suspend(&a, &ends.initiator).await.unwrap();
        wait_agreement(&a, &b, &ends, SETTLE).await;
        let (ra, rb) = tokio::join!(activate(&a, &ends.initiator), suspend(&b, &ends.acceptor));
        ra.unwrap();
        rb.unwrap();
        let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
        assert_eq!(
            (i.status(), i.suspended_by.clone()),
            (pb::Status::Suspended, vec![ACCOUNT_B.to_owned()]),
            "round {round}"
        );
        activate(&b, &ends.acceptor).await.unwrap();
        let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
        assert_eq!(i.status(), pb::Status::Activated, "round {round}");
    }
}

/// Consent: the acceptor admits only the initiator its own end names, and only when Idle. Each refusal
/// reaches the caller with the cloud's code, the initiator returns to Idle with last_error, and the
/// acceptor's end is unchanged.
#[tokio::test]
async fn the_acceptor_admits_only_the_initiator_it_names() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let (mut ris_a, mut ris_b) = (a.router_interfaces().await, b.router_interfaces().await);

    struct Case {
        name: &'static str,
        reason: &'static str,
        /// Spoils the acceptor end's opposite fields (on B) before connecting.
        acceptor_names: Option<pb::ModifyRouterInterfaceAttributeRequest>,
    }
    let cases = [
        Case {
            name: "another owner",
            reason: "Forbbiden.InvaildOwner",
            acceptor_names: Some(pb::ModifyRouterInterfaceAttributeRequest {
                opposite_interface_owner_id: Some("1000000000000009".into()),
                ..Default::default()
            }),
        },
        Case {
            name: "another router",
            reason: "IncorrectOppositeInterfaceInfo",
            acceptor_names: Some(pb::ModifyRouterInterfaceAttributeRequest {
                opposite_router_id: Some("vrt-someotherrouter0000000".into()),
                ..Default::default()
            }),
        },
        Case {
            name: "another interface",
            reason: "IncorrectOppositeInterfaceInfo",
            acceptor_names: Some(pb::ModifyRouterInterfaceAttributeRequest {
                opposite_interface_id: Some("ri-someotherinterface00000".into()),
                ..Default::default()
            }),
        },
        Case {
            name: "not set",
            reason: "IncorrectOppositeInterfaceInfo.NotSet",
            acceptor_names: Some(pb::ModifyRouterInterfaceAttributeRequest {
                opposite_interface_id: Some(String::new()),
                ..Default::default()
            }),
        },
    ];
    for case in cases {
        let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
        if let Some(mut spoil) = case.acceptor_names {
            spoil.router_interface_id = ends.acceptor.clone();
            ris_b.modify_router_interface_attribute(spoil).await.unwrap();
        }
        let before = describe(&mut ris_b, &ends.acceptor).await;
        let answer = connect(&a, &ends.initiator).await;
        let err = match answer {
            Err(e) => e,
            Ok(s) => panic!("{}: connect answered {s:?}: {:?}", case.name, describe(&mut ris_a, &ends.initiator).await),
        };
        assert_eq!((err.code(), reason(&err).as_str()), (Code::FailedPrecondition, case.reason), "{}", case.name);
        let i = describe(&mut ris_a, &ends.initiator).await;
        assert_eq!(i.status(), pb::Status::Idle, "{}", case.name);
        assert!(i.last_error.contains(case.reason), "{}: {}", case.name, i.last_error);
        assert_eq!(describe(&mut ris_b, &ends.acceptor).await, before, "{}: the acceptor is unchanged", case.name);
    }

    // Not Idle: an acceptor end already connected refuses a second initiator that names it.
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    let other = prepare_connection(&a, &b, ACCOUNT_B).await;
    let i2 = describe(&mut ris_a, &other.initiator).await;
    let ac = describe(&mut ris_b, &ends.acceptor).await;
    ris_a
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: i2.router_interface_id.clone(),
            opposite_interface_id: Some(ac.router_interface_id.clone()),
            opposite_router_id: Some(ac.router_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = connect(&a, &i2.router_interface_id).await.unwrap_err();
    assert_eq!(reason(&err), "IncorrectRIStatus");
    assert_eq!(describe(&mut ris_b, &ends.acceptor).await.status(), pb::Status::Activated);

    // Role: naming an initiator end of account B is refused too.
    let b_initiator = ris_b
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            region_id: "cn-shanghai".into(),
            role: pb::Role::InitiatingSide as i32,
            router_type: pb::RouterType::Vrouter as i32,
            router_id: ac.router_id.clone(),
            spec: "Mini.2".into(),
            opposite_region_id: "cn-hangzhou".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .router_interface_id;
    ris_a
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: i2.router_interface_id.clone(),
            opposite_interface_id: Some(b_initiator),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = connect(&a, &i2.router_interface_id).await.unwrap_err();
    assert_eq!(reason(&err), "IncorrectOppositeInterfaceInfo");

    // A grpcurl user sees the acceptor's code.
    let spoiled = prepare_connection(&a, &b, ACCOUNT_B).await;
    ris_b
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: spoiled.acceptor.clone(),
            opposite_interface_owner_id: Some("1000000000000009".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let method = "expressconnect.v1.RouterInterfaceService/ConnectRouterInterface";
    let out = std::process::Command::new("grpcurl")
        .args(a.grpcurl_signature(method))
        .args(["-plaintext", "-d", &format!("{{\"router_interface_id\": \"{}\"}}", spoiled.initiator)])
        .arg(a.addr.to_string())
        .arg(method)
        .output()
        .expect("grpcurl on the PATH");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("FailedPrecondition") && stderr.contains("Forbbiden.InvaildOwner"),
        "{stderr}"
    );
}

/// Deleting one end shows the other end's opposite as Deleted and returns it to Idle; it can then be
/// connected again.
#[tokio::test]
async fn deleting_one_end_returns_the_other_to_idle() {
    let (a, b, ends) = connected_pair(&Flags::default()).await;
    suspend(&b, &ends.acceptor).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    b.router_interfaces()
        .await
        .delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: ends.acceptor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let i = scenario_tests::peering::wait_for(&a, &ends.initiator, SETTLE, "Idle after the deletion", |ri| {
        ri.status() == pb::Status::Idle && ri.opposite_interface_status() == pb::Status::Deleted
    })
    .await;
    assert!(i.suspended_by.is_empty());
    // A fresh acceptor end can take its place.
    let next = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &next.initiator).await.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &next, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));
}

#[tokio::test]
async fn connect_without_a_peer_link_is_refused_at_once() {
    let b = scenario_tests::peering::start_acceptor(ACCOUNT_B, None, &Flags::default()).await;
    // This initiator knows no peers.
    let a = Service::start(scenario_tests::Binary::Initiator, None).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    let err = connect(&a, &ends.initiator).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("--peer"), "{}", err.message());
    assert_eq!(describe(&mut a.router_interfaces().await, &ends.initiator).await.status(), pb::Status::Idle);
}
