//! Authentication and authorization (issue 7): every RPC of the public API, called with no credential,
//! another account's credential, a wrong signature, a replay of a signed call, and the right credential.
//! Only the right credential gets through; the refused calls change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use prost::Message;
use scenario_tests::{ACCOUNT_B, Binary, Service, keys_of, pb};
use shared::auth::{AccessKey, SignedHeaders, sign};
use tonic::Code;
use tonic::transport::Channel;

/// Any request or answer: every field at its default. Unknown fields of an answer are skipped.
#[derive(Clone, PartialEq, prost::Message)]
struct Anything {}

/// One RPC of the public API, from the descriptor the services serve by reflection.
#[derive(Debug, Clone)]
struct Rpc {
    path: String,
    server_streaming: bool,
    operator: bool,
}

/// Every RPC of every `expressconnect.v1` service, so a new one is covered without touching this test.
fn every_rpc() -> Vec<Rpc> {
    let set = prost_types::FileDescriptorSet::decode(shared::api::FILE_DESCRIPTOR_SET).unwrap();
    let mut rpcs = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "expressconnect.v1") {
        for service in &file.service {
            for method in &service.method {
                rpcs.push(Rpc {
                    path: format!("/expressconnect.v1.{}/{}", service.name(), method.name()),
                    server_streaming: method.server_streaming(),
                    operator: service.name() == "SimulationService",
                });
            }
        }
    }
    rpcs
}

/// Calls `rpc` with an empty request and the given metadata; `Ok` once the call got past authentication
/// (an answer, or an error other than UNAUTHENTICATED / PERMISSION_DENIED).
async fn call(channel: Channel, rpc: &Rpc, signed: Option<&SignedHeaders>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(Anything {});
    if let Some(signed) = signed {
        for (name, value) in signed.pairs() {
            request.metadata_mut().insert(name, value.parse().unwrap());
        }
    }
    let path = http::uri::PathAndQuery::from_str(&rpc.path).unwrap();
    let codec = tonic_prost::ProstCodec::<Anything, Anything>::default();
    let answer = if rpc.server_streaming {
        grpc.server_streaming(request, path, codec).await.map(|_| ())
    } else {
        grpc.unary(request, path, codec).await.map(|_| ())
    };
    match answer {
        Err(status) if matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied) => Err(status),
        _ => Ok(()),
    }
}

fn reason(status: &tonic::Status) -> String {
    scenario_tests::reason(status)
}

#[tokio::test]
async fn only_the_right_credential_gets_through_on_every_rpc() {
    let svc = Service::start(Binary::Initiator, None).await;
    let own = &svc.credentials;
    let stranger = keys_of(ACCOUNT_B).account;
    let rpcs = every_rpc();
    assert!(rpcs.len() >= 25, "the descriptor lists the API ({} RPCs)", rpcs.len());
    let channel = svc.channel().await;

    for rpc in &rpcs {
        let right: &AccessKey = if rpc.operator { &own.operator } else { &own.account };
        let now = chrono::Utc::now();

        let refused = call(channel.clone(), rpc, None).await.unwrap_err();
        assert_eq!(
            (refused.code(), reason(&refused).as_str()),
            (Code::Unauthenticated, "IncompleteSignature"),
            "{}",
            rpc.path
        );

        let theirs = sign(&stranger, &rpc.path, now);
        let refused = call(channel.clone(), rpc, Some(&theirs)).await.unwrap_err();
        assert_eq!(reason(&refused), "InvalidAccessKeyId.NotFound", "{}: another account's key", rpc.path);

        let forged = AccessKey { access_key_secret: "not-the-secret".into(), ..right.clone() };
        let refused = call(channel.clone(), rpc, Some(&sign(&forged, &rpc.path, now))).await.unwrap_err();
        assert_eq!(reason(&refused), "SignatureDoesNotMatch", "{}: a wrong signature", rpc.path);

        // The wrong one of the service's two keys: the account's on SimulationService, and the other way round.
        let other: &AccessKey = if rpc.operator { &own.account } else { &own.operator };
        let refused = call(channel.clone(), rpc, Some(&sign(other, &rpc.path, now))).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{}: the other key", rpc.path);

        let signed = sign(right, &rpc.path, now);
        call(channel.clone(), rpc, Some(&signed))
            .await
            .unwrap_or_else(|e| panic!("{}: the right key: {e:?}", rpc.path));
        let replayed = call(channel.clone(), rpc, Some(&signed)).await.unwrap_err();
        assert_eq!(reason(&replayed), "SignatureNonceUsed", "{}: a replay", rpc.path);

        // A signature of another call does not carry over.
        let elsewhere = sign(right, "/expressconnect.v1.VpcService/DescribeVpcs", now);
        if rpc.path != "/expressconnect.v1.VpcService/DescribeVpcs" {
            let refused = call(channel.clone(), rpc, Some(&elsewhere)).await.unwrap_err();
            assert_eq!(reason(&refused), "SignatureDoesNotMatch", "{}: another call's signature", rpc.path);
        }
        let stale = sign(right, &rpc.path, now - chrono::Duration::minutes(20));
        let refused = call(channel.clone(), rpc, Some(&stale)).await.unwrap_err();
        assert_eq!(reason(&refused), "InvalidTimeStamp.Expired", "{}: an old signature", rpc.path);
    }

    // The refused calls changed nothing (the accepted ones had empty requests, which change nothing either).
    let vpcs = svc.vpcs().await.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(vpcs.total_count, 0);
    let balance =
        svc.billing().await.describe_account_balance(pb::DescribeAccountBalanceRequest {}).await.unwrap().into_inner();
    assert_eq!(balance.available_amount, "100000000.00");
    let clock = svc.simulation().await.get_clock(pb::GetClockRequest {}).await.unwrap().into_inner();
    assert_eq!(clock.offset.unwrap_or_default().seconds, 0);
}

#[tokio::test]
async fn health_and_reflection_need_no_credential_and_grpcurl_signs_with_peeringctl() {
    let svc = Service::start(Binary::Initiator, None).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(svc.channel().await);
    health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap();

    let grpcurl = |extra: Vec<String>| {
        std::process::Command::new("grpcurl")
            .args(extra)
            .args(["-plaintext", &svc.addr.to_string(), "expressconnect.v1.VpcService/DescribeVpcs"])
            .output()
            .expect("grpcurl on the PATH")
    };
    let unsigned = grpcurl(Vec::new());
    assert!(!unsigned.status.success());
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("IncompleteSignature"));
    let ctl = std::process::Command::new(scenario_tests::peeringctl_path())
        .args(["sign", "--access-key-id", &svc.credentials.account.access_key_id])
        .args(["--access-key-secret", &svc.credentials.account.access_key_secret])
        .arg("expressconnect.v1.VpcService/DescribeVpcs")
        .output()
        .unwrap();
    assert!(ctl.status.success(), "{}", String::from_utf8_lossy(&ctl.stderr));
    let flags: Vec<String> = String::from_utf8(ctl.stdout).unwrap().split_whitespace().map(str::to_owned).collect();
    let signed = grpcurl(flags.clone());
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let replayed = grpcurl(flags);
    assert!(String::from_utf8_lossy(&replayed.stderr).contains("SignatureNonceUsed"));
}

/// A process that claims account A on the peer link without the secret A shares with B.
#[tokio::test]
async fn an_impostor_initiator_is_refused_and_nothing_changes_on_the_acceptor() {
    use scenario_tests::ACCOUNT_A;
    use scenario_tests::peering::{Flags, connect, peer_key, prepare_connection, start_pair, wait_agreement};
    use shared::api::peer::v1::{self as peer, peer_link_client::PeerLinkClient};
    use shared::auth::PeerSigned;

    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    let (initiator, before) = wait_agreement(&a, &b, &ends, std::time::Duration::from_secs(10)).await;
    let acceptor_now = || async { scenario_tests::describe(&mut b.router_interfaces().await, &ends.acceptor).await };

    // A whole impostor service: its first resync would tell B that account A has no ends at all.
    let impostor_args: Vec<String> = [
        "--account-id",
        ACCOUNT_A,
        "--peer",
        &format!("{ACCOUNT_B}={}", b.url()),
        "--peer-key",
        &format!("{ACCOUNT_B}=a-guessed-secret"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let impostor = Service::start_with(Binary::Initiator, None, "127.0.0.1:0".parse().unwrap(), &impostor_args).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(acceptor_now().await, before, "the impostor's link was refused; B's end is as it was");
    drop(impostor);

    // The same forgery by hand: "A's end was deleted", signed with a guessed secret, then by the wrong
    // account, then replayed; only the genuine signature would be believed.
    let forged_report = peer::DeliverRequest {
        protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
        initiator_account_id: ACCOUNT_A.into(),
        reports: vec![peer::EndReport {
            interface_id: ends.initiator.clone(),
            owner_id: ACCOUNT_A.into(),
            router_id: initiator.router_id.clone(),
            router_type: initiator.router_type,
            region_id: initiator.region_id.clone(),
            status: initiator.status,
            spec: initiator.spec.clone(),
            version: 1_000_000,
            deleted: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    let peer_client = |secret: String| {
        let channel = tonic::transport::Channel::from_shared(b.url()).unwrap().connect_lazy();
        let key = AccessKey { access_key_id: format!("peer:{ACCOUNT_A}"), access_key_secret: secret };
        PeerLinkClient::new(PeerSigned::new(channel, key))
    };
    let refused = peer_client("a-guessed-secret".into()).deliver(forged_report.clone()).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::Unauthenticated, "SignatureDoesNotMatch"));
    let other_account =
        peer::DeliverRequest { initiator_account_id: "1000000000000003".into(), ..forged_report.clone() };
    let refused = peer_client(peer_key(ACCOUNT_A, ACCOUNT_B)).deliver(other_account).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "Forbidden.PeerAccount"));
    assert_eq!(acceptor_now().await, before, "nothing changed on the acceptor");

    // The control: signed with the secret A and B share, the same message is believed.
    peer_client(peer_key(ACCOUNT_A, ACCOUNT_B)).deliver(forged_report).await.unwrap();
    let after = acceptor_now().await;
    assert_eq!(after.opposite_interface_status(), pb::Status::Deleted, "{after:?}");
}

/// Two services that do not share the same secret never link: a misconfigured (or impostor) acceptor admits
/// nothing. (That an answer without the acceptor's proof is not believed is a unit test of `PeerSigned`.)
#[tokio::test]
async fn services_holding_different_secrets_never_link() {
    use scenario_tests::peering::{Flags, prepare_connection, start_initiator};
    let wrong_b = Service::start_with(
        Binary::Acceptor,
        None,
        "127.0.0.1:0".parse().unwrap(),
        &["--account-id", ACCOUNT_B, "--peer-key", &format!("{}=not-the-shared-secret", scenario_tests::ACCOUNT_A)]
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>(),
    )
    .await;
    let a = start_initiator(&[(ACCOUNT_B, &wrong_b)], None, &Flags::default()).await;
    let ends = prepare_connection(&a, &wrong_b, ACCOUNT_B).await;
    let status = scenario_tests::peering::connect(&a, &ends.initiator).await.unwrap();
    assert_eq!(status, pb::Status::Connecting, "no admission from a service that is not the account A knows");
    let acceptor = scenario_tests::describe(&mut wrong_b.router_interfaces().await, &ends.acceptor).await;
    assert_eq!(acceptor.status(), pb::Status::Idle);
}
