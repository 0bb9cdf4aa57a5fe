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
