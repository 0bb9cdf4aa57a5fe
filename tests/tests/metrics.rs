//! The Prometheus endpoint of both services, scraped over plain HTTP/1.1 as Prometheus does: every figure
//! is checked against the calls this test made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use scenario_tests::peering::{Flags, connect, prepare_connection, start_pair, suspend, wait_agreement};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Service, TempDir, create_vpc, pb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SETTLE: Duration = Duration::from_secs(10);

/// `GET /metrics` over HTTP/1.1 on the service's gRPC port.
async fn scrape(svc: &Service) -> String {
    let mut stream = tokio::net::TcpStream::connect(svc.addr).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: peering\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/plain"), "{head}");
    body.to_owned()
}

/// The value of the sample `name{labels}` (labels exactly as exposed), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

fn calls(method: &str, code: &str) -> String {
    format!("peering_rpc_calls_total{{method=\"expressconnect.v1.{method}\",code=\"{code}\"}}")
}

fn router_interfaces(status: &str) -> String {
    format!("peering_router_interfaces{{status=\"{status}\"}}")
}

fn peer(metric: &str, account: &str) -> String {
    format!("peering_{metric}{{peer_account=\"{account}\"}}")
}

#[tokio::test]
async fn both_services_expose_calls_handshakes_statuses_the_peer_link_and_billing_as_they_happened() {
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let (a, b) = start_pair(&Flags::default(), Some(a_dir.path()), Some(b_dir.path())).await;
    let before = scrape(&a).await;
    assert_eq!(sample(&before, &calls("VpcService/CreateVpc", "Ok")), 0.0);
    assert_eq!(sample(&before, &router_interfaces("Idle")), 0.0);

    // Three VPCs made and one refused on A.
    for cidr in ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"] {
        create_vpc(&mut a.vpcs().await, "cn-hangzhou", cidr).await;
    }
    let bad =
        pb::CreateVpcRequest { region_id: "cn-hangzhou".into(), cidr_block: "nonsense".into(), ..Default::default() };
    assert!(a.vpcs().await.create_vpc(bad).await.is_err());
    // One call with no signature at all.
    let unsigned = scenario_tests::pb::vpc_service_client::VpcServiceClient::new(a.channel().await)
        .describe_vpcs(pb::DescribeVpcsRequest::default())
        .await;
    assert!(unsigned.is_err());

    // A cross-account connection (one more VPC on each side), connected, then suspended by A.
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    let idle = scrape(&a).await;
    assert_eq!(sample(&idle, &router_interfaces("Idle")), 1.0);
    connect(&a, &ends.initiator).await.unwrap();
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!(i.status(), pb::Status::Activated);

    let a_text = scrape(&a).await;
    assert_eq!(sample(&a_text, &calls("VpcService/CreateVpc", "Ok")), 4.0, "{a_text}");
    assert_eq!(sample(&a_text, &calls("VpcService/CreateVpc", "InvalidArgument")), 1.0);
    assert_eq!(sample(&a_text, &calls("VpcService/DescribeVpcs", "Unauthenticated")), 1.0);
    assert_eq!(sample(&a_text, &calls("RouterInterfaceService/ConnectRouterInterface", "Ok")), 1.0);
    let latency = "peering_rpc_duration_seconds_count{method=\"expressconnect.v1.VpcService/CreateVpc\",code=\"Ok\"}";
    assert_eq!(sample(&a_text, latency), 4.0);
    assert_eq!(sample(&a_text, &router_interfaces("Activated")), 1.0);
    assert_eq!(sample(&a_text, &router_interfaces("Idle")), 0.0);
    assert_eq!(sample(&a_text, "peering_handshake_duration_seconds_count"), 1.0);
    assert!(sample(&a_text, "peering_handshake_duration_seconds_sum") > 0.0);
    assert_eq!(sample(&a_text, &peer("peer_link_up", ACCOUNT_B)), 1.0);
    assert_eq!(sample(&a_text, &peer("peer_link_reconnects_total", ACCOUNT_B)), 0.0);

    let b_text = scrape(&b).await;
    assert_eq!(sample(&b_text, &calls("VpcService/CreateVpc", "Ok")), 1.0, "{b_text}");
    assert_eq!(sample(&b_text, &router_interfaces("Activated")), 1.0);
    assert_eq!(sample(&b_text, "peering_handshake_duration_seconds_count"), 1.0);
    assert_eq!(sample(&b_text, &peer("peer_link_up", ACCOUNT_A)), 1.0);
    // The peer link's calls are counted too.
    assert!(
        sample(&b_text, "peering_rpc_calls_total{method=\"expressconnect.peer.v1.PeerLink/Subscribe\",code=\"Ok\"}")
            >= 1.0
    );

    suspend(&a, &ends.initiator).await.unwrap();
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!(i.status(), pb::Status::Suspended);
    assert_eq!(sample(&scrape(&b).await, &router_interfaces("Suspended")), 1.0);

    // Billing: A's pay-as-you-go end across regions is charged by the hour; a day's jump fires 24 events.
    let request =
        pb::AdvanceClockRequest { by: Some(prost_types::Duration { seconds: 86_400, nanos: 0 }), ..Default::default() };
    let fired = a.simulation().await.advance_clock(request).await.unwrap().into_inner().events_fired;
    assert!(fired >= 24, "{fired}");
    assert_eq!(sample(&scrape(&a).await, "peering_billing_events_total"), f64::from(fired));

    // The acceptor restarts: A sees the link go down and come back, once.
    let b = b.restart().await;
    wait_agreement(&a, &b, &ends, SETTLE).await;
    let mut reconnected = 0.0;
    for _ in 0..100 {
        let text = scrape(&a).await;
        reconnected = sample(&text, &peer("peer_link_reconnects_total", ACCOUNT_B));
        if reconnected >= 1.0 && sample(&text, &peer("peer_link_up", ACCOUNT_B)) == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reconnected, 1.0);
}
