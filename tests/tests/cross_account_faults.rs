//! Cross-account peering under faults, with real processes: an acceptor that is down when the initiator
//! connects, an initiator that is down when the acceptor suspends, kill -9 of either service at every step
//! of the lifecycle while the handshake is in flight, and three accounts whose views must never mix.
//! Every test looks at what users see on both services.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use scenario_tests::peering::{
    Ends, Flags, activate, connect, delete, prepare_connection, start_acceptor, start_initiator, start_pair, suspend,
    wait_agreement, wait_for,
};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Service, TempDir, describe, pb, reason};
use tokio::time::Instant;

const ACCOUNT_C: &str = "1000000000000003";

/// How long any two ends may take to agree after the last fault healed.
const CONVERGE: Duration = Duration::from_secs(10);

/// The ids of every end `svc` lists.
async fn listed(svc: &Service) -> Vec<String> {
    let request = pb::DescribeRouterInterfacesRequest { page_size: 50, ..Default::default() };
    let page = svc.router_interfaces().await.describe_router_interfaces(request).await.unwrap().into_inner();
    page.router_interfaces.into_iter().map(|ri| ri.router_interface_id).collect()
}

/// Asserts that `svc` does not know the end `id`.
async fn assert_unknown(svc: &Service, id: &str) {
    let request = pb::DescribeRouterInterfaceAttributeRequest { router_interface_id: id.into() };
    let answer = svc.router_interfaces().await.describe_router_interface_attribute(request).await;
    let err = answer.expect_err(&format!("{id} is not an end of the service at {}", svc.url()));
    assert_eq!(err.code(), tonic::Code::NotFound, "{err:?}");
    assert_eq!(reason(&err), "InvalidRouterInterfaceId.NotFound", "{err:?}");
}

/// Waits for agreement and checks the agreed status and who holds the connection suspended.
async fn assert_agreed(
    a: &Service,
    b: &Service,
    ends: &Ends,
    status: pb::Status,
    suspended_by: &[&str],
    context: &str,
) -> (pb::RouterInterface, pb::RouterInterface) {
    let (i, ac) = wait_agreement(a, b, ends, CONVERGE).await;
    assert_eq!((i.status(), ac.status()), (status, status), "{context}:\n initiator {i:?}\n acceptor {ac:?}");
    for end in [&i, &ac] {
        let mut by = end.suspended_by.clone();
        by.sort();
        assert_eq!(by, suspended_by, "{context}: suspended_by of {}", end.router_interface_id);
        assert_eq!(end.last_error, "", "{context}: {end:?}");
    }
    (i, ac)
}

/// A fresh connection between `a` and `b` (account `b_account`), Activated and agreed on both sides.
async fn connected(a: &Service, b: &Service, b_account: &str) -> Ends {
    let ends = prepare_connection(a, b, b_account).await;
    connect(a, &ends.initiator).await.unwrap();
    assert_agreed(a, b, &ends, pb::Status::Activated, &[], "connected").await;
    ends
}

#[tokio::test]
async fn connect_while_the_acceptor_is_down_times_out_to_idle() {
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let flags = Flags { transition_delay_ms: 0, settle_wait_ms: 300, connect_timeout_ms: 1500, ..Flags::default() };
    let (a, b) = start_pair(&flags, Some(a_dir.path()), Some(b_dir.path())).await;
    // A second connection, up before the outage: it shows when the link is back.
    let probe = connected(&a, &b, ACCOUNT_B).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    let b = b.shut_down().await;

    let asked = Instant::now();
    assert_eq!(connect(&a, &ends.initiator).await.unwrap(), pb::Status::Connecting, "nobody answers the connect");
    let connecting = describe(&mut a.router_interfaces().await, &ends.initiator).await;
    assert_eq!(connecting.status(), pb::Status::Connecting, "{connecting:?}");
    let idle = wait_for(&a, &ends.initiator, Duration::from_secs(6), "Idle after ConnectTimeout", |ri| {
        ri.status() == pb::Status::Idle
    })
    .await;
    assert!(asked.elapsed() >= Duration::from_millis(1500), "gave up after {:?}, before the timeout", asked.elapsed());
    assert!(idle.last_error.contains("ConnectTimeout"), "{idle:?}");
    assert!(idle.suspended_by.is_empty() && idle.connected_time.is_empty(), "{idle:?}");
    assert_ne!(idle.opposite_interface_status(), pb::Status::Activated, "{idle:?}");

    // Meanwhile A suspends the probe: it stays Suspending, as B cannot confirm.
    assert_eq!(suspend(&a, &probe.initiator).await.unwrap(), pb::Status::Suspending);

    let b = b.start().await;
    // The link is back once the probe's suspension reached B.
    assert_agreed(&a, &b, &probe, pb::Status::Suspended, &[ACCOUNT_A], "probe after B restarted").await;
    // B never heard of the connect that timed out; A still says why it gave up.
    let acceptor = describe(&mut b.router_interfaces().await, &ends.acceptor).await;
    assert_eq!(acceptor.status(), pb::Status::Idle, "{acceptor:?}");
    assert_eq!(acceptor.last_error, "", "{acceptor:?}");
    let still = describe(&mut a.router_interfaces().await, &ends.initiator).await;
    assert_eq!(still.status(), pb::Status::Idle, "{still:?}");
    assert!(still.last_error.contains("ConnectTimeout"), "{still:?}");

    // A new connect succeeds, and clears the old error.
    let answer = connect(&a, &ends.initiator).await.unwrap();
    assert!(matches!(answer, pb::Status::Connecting | pb::Status::Activated), "{answer:?}");
    assert_agreed(&a, &b, &ends, pb::Status::Activated, &[], "connect after B restarted").await;
}

#[tokio::test]
async fn suspend_on_the_acceptor_while_the_initiator_is_down_converges() {
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let flags = Flags { transition_delay_ms: 0, settle_wait_ms: 300, connect_timeout_ms: 0, ..Flags::default() };
    let (a, b) = start_pair(&flags, Some(a_dir.path()), Some(b_dir.path())).await;
    let ends = connected(&a, &b, ACCOUNT_B).await;
    let a = a.kill().await;

    assert_eq!(suspend(&b, &ends.acceptor).await.unwrap(), pb::Status::Suspending, "A cannot confirm");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = describe(&mut b.router_interfaces().await, &ends.acceptor).await;
    assert_eq!(waiting.status(), pb::Status::Suspending, "still unconfirmed while A is down: {waiting:?}");
    assert_eq!(waiting.suspended_by, [ACCOUNT_B], "{waiting:?}");
    assert_eq!(waiting.opposite_interface_status(), pb::Status::Activated, "A's last known status: {waiting:?}");

    // A comes back; nobody calls anything.
    let a = a.start().await;
    let (i, _) = assert_agreed(&a, &b, &ends, pb::Status::Suspended, &[ACCOUNT_B], "after A restarted").await;
    assert!(i.status_reason.contains(ACCOUNT_B), "{i:?}");
    // Only B can lift B's suspension.
    let refused = activate(&a, &ends.initiator).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (tonic::Code::FailedPrecondition, "IncorrectStatus"));
    activate(&b, &ends.acceptor).await.unwrap();
    assert_agreed(&a, &b, &ends, pb::Status::Activated, &[], "after B activated").await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Victim {
    Initiator,
    Acceptor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    SuspendByInitiator,
    ActivateByInitiator,
    SuspendByAcceptor,
    DeleteAcceptorEnd,
}

const STEPS: [Step; 5] = [
    Step::Connect,
    Step::SuspendByInitiator,
    Step::ActivateByInitiator,
    Step::SuspendByAcceptor,
    Step::DeleteAcceptorEnd,
];

/// Brings a fresh connection to where `step` can be taken.
async fn ready_for(step: Step, a: &Service, b: &Service) -> Ends {
    match step {
        Step::Connect => prepare_connection(a, b, ACCOUNT_B).await,
        Step::SuspendByInitiator | Step::SuspendByAcceptor => connected(a, b, ACCOUNT_B).await,
        Step::ActivateByInitiator => {
            let ends = connected(a, b, ACCOUNT_B).await;
            suspend(a, &ends.initiator).await.unwrap();
            assert_agreed(a, b, &ends, pb::Status::Suspended, &[ACCOUNT_A], "ready to activate").await;
            ends
        }
        Step::DeleteAcceptorEnd => {
            let ends = connected(a, b, ACCOUNT_B).await;
            suspend(b, &ends.acceptor).await.unwrap();
            assert_agreed(a, b, &ends, pb::Status::Suspended, &[ACCOUNT_B], "ready to delete").await;
            ends
        }
    }
}

/// Takes `step`; every call must be acknowledged (the victim is killed only after the answer).
async fn take(step: Step, a: &Service, b: &Service, ends: &Ends) {
    let (answer, allowed) = match step {
        Step::Connect => (connect(a, &ends.initiator).await, [pb::Status::Connecting, pb::Status::Activated]),
        Step::SuspendByInitiator => {
            (suspend(a, &ends.initiator).await, [pb::Status::Suspending, pb::Status::Suspended])
        }
        Step::ActivateByInitiator => {
            (activate(a, &ends.initiator).await, [pb::Status::Activating, pb::Status::Activated])
        }
        Step::SuspendByAcceptor => (suspend(b, &ends.acceptor).await, [pb::Status::Suspending, pb::Status::Suspended]),
        Step::DeleteAcceptorEnd => {
            delete(b, &ends.acceptor).await.unwrap_or_else(|e| panic!("{step:?}: {e:?}"));
            return;
        }
    };
    let status = answer.unwrap_or_else(|e| panic!("{step:?}: {e:?}"));
    assert!(allowed.contains(&status), "{step:?} answered {status:?}");
}

/// What an acknowledged `step` must have left on both services once they agree.
async fn assert_outcome(step: Step, a: &Service, b: &Service, ends: &Ends, context: &str) {
    match step {
        Step::Connect | Step::ActivateByInitiator => {
            assert_agreed(a, b, ends, pb::Status::Activated, &[], context).await;
        }
        Step::SuspendByInitiator => {
            assert_agreed(a, b, ends, pb::Status::Suspended, &[ACCOUNT_A], context).await;
        }
        Step::SuspendByAcceptor => {
            assert_agreed(a, b, ends, pb::Status::Suspended, &[ACCOUNT_B], context).await;
        }
        Step::DeleteAcceptorEnd => {
            let i = wait_for(a, &ends.initiator, CONVERGE, "Idle, its opposite Deleted", |ri| {
                ri.status() == pb::Status::Idle && ri.opposite_interface_status() == pb::Status::Deleted
            })
            .await;
            assert!(i.suspended_by.is_empty(), "{context}: {i:?}");
            assert_unknown(b, &ends.acceptor).await;
            assert!(!listed(b).await.contains(&ends.acceptor), "{context}: B still lists {}", ends.acceptor);
        }
    }
}

/// Kills `victim` with SIGKILL at a point of the handshake that depends on `index`, for every step, on one
/// pair of services; then checks that every earlier connection survived the later kills too.
async fn kill_at_each_step(victim: Victim) {
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    // The calls answer at once, while the peer messages (each 150 ms late) are still in flight.
    let flags = Flags { transition_delay_ms: 150, settle_wait_ms: 1, connect_timeout_ms: 0, ..Flags::default() };
    let (mut a, mut b) = start_pair(&flags, Some(a_dir.path()), Some(b_dir.path())).await;
    let mut done: Vec<(Step, Ends)> = Vec::new();
    for (index, step) in STEPS.into_iter().enumerate() {
        let ends = ready_for(step, &a, &b).await;
        take(step, &a, &b, &ends).await;
        let round = index as u64 + if victim == Victim::Acceptor { 5 } else { 0 };
        let delay = Duration::from_millis(round * 73 % 301);
        tokio::time::sleep(delay).await;
        match victim {
            Victim::Initiator => a = a.kill().await.start().await,
            Victim::Acceptor => b = b.kill().await.start().await,
        }
        let context = format!("{victim:?} killed {delay:?} after {step:?}");
        assert_outcome(step, &a, &b, &ends, &context).await;
        done.push((step, ends));
    }
    for (step, ends) in &done {
        assert_outcome(*step, &a, &b, ends, &format!("{step:?}, after every kill of the {victim:?}")).await;
    }
}

#[tokio::test]
async fn kill_minus_nine_at_each_step_converges() {
    tokio::join!(kill_at_each_step(Victim::Initiator), kill_at_each_step(Victim::Acceptor));
}

#[tokio::test]
async fn three_accounts_every_view_agrees() {
    let flags = Flags::default();
    let b = start_acceptor(ACCOUNT_B, None, &flags).await;
    let c = start_acceptor(ACCOUNT_C, None, &flags).await;
    let a = start_initiator(&[(ACCOUNT_B, &b), (ACCOUNT_C, &c)], None, &flags).await;

    let to_b = prepare_connection(&a, &b, ACCOUNT_B).await;
    let to_c = prepare_connection(&a, &c, ACCOUNT_C).await;
    connect(&a, &to_b.initiator).await.unwrap();
    connect(&a, &to_c.initiator).await.unwrap();
    let (i_b, ac_b) = assert_agreed(&a, &b, &to_b, pb::Status::Activated, &[], "A-B connected").await;
    let (i_c, ac_c) = assert_agreed(&a, &c, &to_c, pb::Status::Activated, &[], "A-C connected").await;
    assert_eq!((i_b.opposite_interface_owner_id.as_str(), ac_b.owner_id.as_str()), (ACCOUNT_B, ACCOUNT_B));
    assert_eq!((i_c.opposite_interface_owner_id.as_str(), ac_c.owner_id.as_str()), (ACCOUNT_C, ACCOUNT_C));
    assert_eq!(
        (ac_b.opposite_interface_owner_id.as_str(), ac_c.opposite_interface_owner_id.as_str()),
        (ACCOUNT_A, ACCOUNT_A)
    );

    suspend(&c, &to_c.acceptor).await.unwrap();
    assert_agreed(&a, &c, &to_c, pb::Status::Suspended, &[ACCOUNT_C], "C suspended").await;
    assert_agreed(&a, &b, &to_b, pb::Status::Activated, &[], "A-B while C suspended").await;
    // A cannot lift C's suspension, and B's end is not C's to touch.
    let refused = activate(&a, &to_c.initiator).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (tonic::Code::FailedPrecondition, "IncorrectStatus"));
    let foreign = suspend(&c, &to_b.acceptor).await.unwrap_err();
    assert_eq!(foreign.code(), tonic::Code::NotFound, "{foreign:?}");

    activate(&c, &to_c.acceptor).await.unwrap();
    assert_agreed(&a, &c, &to_c, pb::Status::Activated, &[], "C activated").await;
    assert_agreed(&a, &b, &to_b, pb::Status::Activated, &[], "A-B after C activated").await;

    // Each acceptor sees only its own end; A sees both of its own.
    assert_eq!(listed(&b).await, std::slice::from_ref(&to_b.acceptor));
    assert_eq!(listed(&c).await, std::slice::from_ref(&to_c.acceptor));
    let mut in_a = listed(&a).await;
    in_a.sort();
    let mut expected = vec![to_b.initiator.clone(), to_c.initiator.clone()];
    expected.sort();
    assert_eq!(in_a, expected);
    assert_unknown(&b, &to_c.acceptor).await;
    assert_unknown(&c, &to_b.acceptor).await;
    assert_unknown(&b, &to_b.initiator).await;
}

/// An acceptor end deleted while the link is down, and a new end of the acceptor's account that names
/// the same initiator end: once the link returns, the initiator end learns its partner is gone (the new
/// end merely naming it is no partner).
#[tokio::test]
async fn a_partner_deleted_while_the_link_is_down_is_noticed_even_if_another_end_names_us() {
    let a_dir = TempDir::new();
    let (a, b) = start_pair(&Flags::default(), Some(a_dir.path()), None).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, CONVERGE).await;
    suspend(&b, &ends.acceptor).await.unwrap();
    wait_agreement(&a, &b, &ends, CONVERGE).await;
    let x = describe(&mut a.router_interfaces().await, &ends.initiator).await;
    let y = describe(&mut b.router_interfaces().await, &ends.acceptor).await;

    let a = a.kill().await;
    delete(&b, &ends.acceptor).await.unwrap();
    b.router_interfaces()
        .await
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            region_id: y.region_id.clone(),
            role: pb::Role::AcceptingSide as i32,
            router_type: pb::RouterType::Vrouter as i32,
            router_id: y.router_id.clone(),
            opposite_region_id: x.region_id.clone(),
            opposite_router_id: x.router_id.clone(),
            opposite_interface_id: x.router_interface_id.clone(),
            opposite_interface_owner_id: ACCOUNT_A.into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let a = a.start().await;
    let x = wait_for(&a, &ends.initiator, CONVERGE, "Idle with its partner Deleted", |ri| {
        ri.status() == pb::Status::Idle && ri.opposite_interface_status() == pb::Status::Deleted
    })
    .await;
    assert!(x.suspended_by.is_empty(), "{x:?}");
}
