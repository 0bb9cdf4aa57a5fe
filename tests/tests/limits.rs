//! Hostile input and overload (issue 7): a message over the size limit, a list over the id limit, too many
//! watch streams, more concurrent writes than the service admits, and a rate limit. Each is refused at once
//! with a clear code, the service keeps serving, and every call that was answered OK is kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use scenario_tests::fixtures::{BAD, refused};
use scenario_tests::{Binary, Service, TempDir, pb, reason};
use tonic::Code;

async fn start(flags: &[&str], dir: Option<&std::path::Path>) -> Service {
    let args: Vec<String> = flags.iter().map(|s| (*s).to_owned()).collect();
    Service::start_with(Binary::Initiator, dir, "127.0.0.1:0".parse().unwrap(), &args).await
}

fn vpc(n: usize) -> pb::CreateVpcRequest {
    pb::CreateVpcRequest {
        region_id: "cn-hangzhou".into(),
        cidr_block: format!("10.{}.{}.0/24", n / 256, n % 256),
        ..Default::default()
    }
}

async fn vpc_count(svc: &Service) -> i32 {
    svc.vpcs().await.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner().total_count
}

#[tokio::test]
async fn oversized_messages_and_lists_are_refused_and_the_service_goes_on() {
    let svc = start(&["--max-message-bytes", "4096"], None).await;
    let mut vpcs = svc.vpcs().await;
    let huge = pb::CreateVpcRequest { description: "x".repeat(10_000), ..vpc(1) };
    let status = vpcs.create_vpc(huge).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("too large"), "{status:?}");

    let ids: Vec<String> = (0..101).map(|n| format!("vpc-{n:022}")).collect();
    let request = pb::DescribeVpcsRequest { vpc_ids: ids, ..Default::default() };
    refused("101 ids", vpcs.describe_vpcs(request).await, BAD, "InvalidParameter", Some("vpc_ids"));
    let request = pb::DescribeRouterInterfacesRequest {
        router_interface_ids: (0..101).map(|n| format!("ri-{n:022}")).collect(),
        ..Default::default()
    };
    let result = svc.router_interfaces().await.describe_router_interfaces(request).await;
    refused("101 ids", result, BAD, "InvalidParameter", Some("router_interface_ids"));

    vpcs.create_vpc(vpc(1)).await.expect("still serving");
}

#[tokio::test]
async fn watch_streams_are_limited_and_a_closed_one_makes_room() {
    let svc = start(&["--max-watch-streams", "2"], None).await;
    let watch = || async {
        svc.router_interfaces().await.watch_router_interfaces(pb::WatchRouterInterfacesRequest::default()).await
    };
    let first = watch().await.unwrap();
    let _second = watch().await.unwrap();
    let third = watch().await.unwrap_err();
    assert_eq!((third.code(), reason(&third).as_str()), (Code::ResourceExhausted, "Throttling"));
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    while watch().await.is_err() {
        assert!(Instant::now() < deadline, "closing a watch makes room");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 32 callers at once against a service that admits 2 writes at a time: the rest are turned away at once,
/// and exactly the acknowledged VPCs exist afterwards, also after a kill -9.
#[tokio::test]
async fn past_capacity_writes_are_refused_at_once_and_nothing_acknowledged_is_lost() {
    let dir = TempDir::new();
    let svc = start(&["--max-concurrent-writes", "2"], Some(dir.path())).await;
    let mut tasks = Vec::new();
    for caller in 0..32 {
        let mut vpcs = svc.vpcs().await;
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..10 {
                let started = Instant::now();
                let result = vpcs.create_vpc(vpc(caller * 10 + n)).await;
                outcomes.push((result.map(|r| r.into_inner().vpc_id), started.elapsed()));
            }
            outcomes
        }));
    }
    let mut acknowledged = 0;
    let mut throttled = 0;
    for task in tasks {
        for (result, took) in task.await.unwrap() {
            match result {
                Ok(_) => acknowledged += 1,
                Err(status) => {
                    assert_eq!((status.code(), reason(&status).as_str()), (Code::ResourceExhausted, "Throttling"));
                    assert!(took < Duration::from_millis(500), "a refusal comes at once, not after a queue ({took:?})");
                    throttled += 1;
                }
            }
        }
    }
    assert!(acknowledged > 0 && throttled > 0, "acknowledged {acknowledged}, throttled {throttled}");
    assert_eq!(vpc_count(&svc).await, acknowledged);
    let svc = svc.kill().await.start().await;
    assert_eq!(vpc_count(&svc).await, acknowledged, "every acknowledged VPC survives kill -9");
}

#[tokio::test]
async fn a_rate_limit_turns_away_the_calls_over_it() {
    let svc = start(&["--max-calls-per-second", "5"], None).await;
    let mut vpcs = svc.vpcs().await;
    let mut throttled = 0;
    for _ in 0..20 {
        if let Err(status) = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await {
            assert_eq!((status.code(), reason(&status).as_str()), (Code::ResourceExhausted, "Throttling.User"));
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "20 calls at once against 5 a second: {throttled} throttled");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.expect("allowed again after a second");
}
