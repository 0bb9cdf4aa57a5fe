//! TLS on the public API and the peer link (issue 7): `peeringctl dev-certs` makes a CA and a server
//! certificate, both services serve TLS with it, the initiator dials the acceptor at an https:// address,
//! a connection is made across accounts, grpcurl calls with -cacert, and a plaintext client gets nowhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use scenario_tests::peering::{Flags, connect, prepare_connection, start_acceptor, start_initiator, wait_agreement};
use scenario_tests::{ACCOUNT_B, TempDir, pb, peeringctl_path};

#[tokio::test]
async fn both_services_serve_tls_and_link_over_it() {
    let dir = TempDir::new();
    let made =
        std::process::Command::new(peeringctl_path()).args(["dev-certs", "--out"]).arg(dir.path()).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let file = |name: &str| dir.path().join(name).display().to_string();
    let tls_flags = Flags {
        extra: vec![
            "--tls-cert".into(),
            file("server.pem"),
            "--tls-key".into(),
            file("server.key"),
            "--tls-ca".into(),
            file("ca.pem"),
        ],
        ..Flags::default()
    };
    let b = start_acceptor(ACCOUNT_B, None, &tls_flags).await;
    assert!(b.url().starts_with("https://"));
    let a = start_initiator(&[(ACCOUNT_B, &b)], None, &tls_flags).await;
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &ends, Duration::from_secs(10)).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));

    // grpcurl trusts the development CA.
    let method = "expressconnect.v1.RouterInterfaceService/DescribeRouterInterfaceAttribute";
    let out = std::process::Command::new("grpcurl")
        .args(a.grpcurl_signature(method))
        .args(["-cacert", &file("ca.pem"), "-d", &format!("{{\"router_interface_id\": \"{}\"}}", ends.initiator)])
        .arg(a.addr.to_string())
        .arg(method)
        .output()
        .expect("grpcurl on the PATH");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("STATUS_ACTIVATED"));

    // A plaintext client cannot talk to a TLS port.
    let plaintext = tonic::transport::Channel::from_shared(format!("http://{}", a.addr)).unwrap().connect().await;
    if let Ok(channel) = plaintext {
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }),
        )
        .await;
        assert!(!matches!(answer, Ok(Ok(_))), "plaintext must not be served: {answer:?}");
    }
}
