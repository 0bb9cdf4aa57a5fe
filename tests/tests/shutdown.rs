//! Graceful shutdown: on SIGTERM health turns NOT_SERVING, streams that never end on their own do not keep
//! the service from stopping, and the process exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use scenario_tests::{Binary, Service, TempDir, pb};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn sigterm_reports_not_serving_and_stops_despite_open_streams() {
    let dir = TempDir::new();
    let svc = Service::start(Binary::Initiator, Some(dir.path())).await;
    let channel = tonic::transport::Channel::from_shared(svc.url()).unwrap().connect().await.unwrap();
    let mut health =
        HealthClient::new(channel).watch(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
    let first = health.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    // A watcher of router interfaces stays open too.
    let _watch = svc
        .router_interfaces()
        .await
        .watch_router_interfaces(pb::WatchRouterInterfacesRequest::default())
        .await
        .unwrap()
        .into_inner();

    let statuses = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Some(message)) = health.message().await {
            seen.push(message.status());
        }
        seen
    });
    let started = Instant::now();
    let exit = svc.stop().await;
    assert!(exit.success(), "exit status {exit}");
    assert!(started.elapsed() < Duration::from_secs(15), "stopped in {:?}", started.elapsed());
    let seen = statuses.await.unwrap();
    assert!(seen.contains(&ServingStatus::NotServing), "the health watcher saw NOT_SERVING: {seen:?}");
}
