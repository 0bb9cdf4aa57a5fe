//! `peering-bench overload`: one initiator-svc process (durable storage, signed calls) measured unloaded,
//! at its capacity, and offered three times its capacity; then killed with -9 and restarted to check that
//! every acknowledged change is there.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::api::v1::{self as pb, vpc_service_client::VpcServiceClient};
use shared::auth::{Credentials, Signed};
use tonic::Code;
use tonic::transport::Channel;

use crate::service::{self, Service};
use crate::stats::{Latencies, ms};

type Vpcs = VpcServiceClient<Signed<Channel>>;

const ACCOUNT: &str = "1000000000000001";

#[derive(Debug, Clone)]
pub struct Settings {
    pub seconds: u64,
    pub callers: usize,
    pub connections: usize,
    pub unloaded_calls: usize,
    pub service_flags: Vec<String>,
}

/// What happened to the calls of one phase.
#[derive(Debug, Default)]
struct Outcomes {
    admitted: Latencies,
    refused: Latencies,
    failed: usize,
    acknowledged: Vec<String>,
}

async fn client(addr: std::net::SocketAddr) -> Vpcs {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    VpcServiceClient::new(Signed::new(channel, Credentials::development(ACCOUNT).account))
}

/// A VPC request; `n` spreads the CIDR blocks.
fn request(n: u64) -> pb::CreateVpcRequest {
    pb::CreateVpcRequest {
        region_id: "cn-hangzhou".into(),
        cidr_block: format!("10.{}.{}.0/24", (n / 256) % 256, n % 256),
        ..Default::default()
    }
}

async fn one(vpcs: &mut Vpcs, n: u64, into: &Mutex<Outcomes>) {
    let started = Instant::now();
    let result = vpcs.create_vpc(request(n)).await;
    let took = started.elapsed();
    let mut outcomes = into.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match result {
        Ok(answer) => {
            outcomes.admitted.push(took);
            outcomes.acknowledged.push(answer.into_inner().vpc_id);
        }
        Err(status) if status.code() == Code::ResourceExhausted => outcomes.refused.push(took),
        Err(_) => outcomes.failed += 1,
    }
}

pub async fn run(settings: Settings) {
    let bin_dir = service::build();
    let data = std::env::temp_dir().join(format!("peering-bench-{}", std::process::id()));
    let svc = Service::start(&bin_dir, "initiator-svc", &data, "127.0.0.1:0", &settings.service_flags).await;
    let addr = svc.addr;
    println!(
        "initiator-svc (release, SQLite synchronous=FULL, signed calls{}) on {addr}, data in {}",
        settings.service_flags.iter().map(|f| format!(", {f}")).collect::<String>(),
        data.display()
    );
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let next = move || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);

    // Unloaded: one call at a time.
    let unloaded = Mutex::new(Outcomes::default());
    let mut vpcs = client(addr).await;
    for _ in 0..settings.unloaded_calls {
        one(&mut vpcs, next(), &unloaded).await;
    }
    let unloaded = unloaded.into_inner().unwrap_or_default();
    let (unloaded_p50, unloaded_p99) = (unloaded.admitted.quantile(0.5), unloaded.admitted.quantile(0.99));
    let baseline_rss = svc.rss_kib();
    println!(
        "unloaded: {} calls one at a time: p50 {}, p99 {}; RSS {} MiB",
        unloaded.admitted.len(),
        ms(unloaded_p50),
        ms(unloaded_p99),
        baseline_rss / 1024
    );

    // Capacity: `callers` callers, each calling again as soon as answered.
    let capacity_outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let deadline = Instant::now() + Duration::from_secs(settings.seconds);
    let mut tasks = Vec::new();
    for _ in 0..settings.callers {
        let mut vpcs = client(addr).await;
        let into = capacity_outcomes.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                one(&mut vpcs, next(), &into).await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let capacity = std::mem::take(&mut *capacity_outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let capacity_per_second = capacity.admitted.len() as f64 / settings.seconds as f64;
    println!(
        "capacity: {} closed-loop callers for {} s: {:.0} calls/s admitted (p99 {}), {} refused",
        settings.callers,
        settings.seconds,
        capacity_per_second,
        ms(capacity.admitted.quantile(0.99)),
        capacity.refused.len()
    );

    // Overload: calls arrive at three times the capacity, whatever the answers.
    let offered = capacity_per_second * 3.0;
    let interval = Duration::from_secs_f64(1.0 / offered.max(1.0));
    let overload_outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut pool = Vec::new();
    for _ in 0..settings.connections {
        pool.push(client(addr).await);
    }
    let mut peak_rss = 0;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut calls = Vec::new();
    let mut sent = 0u64;
    while started.elapsed() < Duration::from_secs(settings.seconds) {
        ticks.tick().await;
        let mut vpcs = pool[(sent as usize) % pool.len()].clone();
        let into = overload_outcomes.clone();
        let n = next();
        calls.push(tokio::spawn(async move { one(&mut vpcs, n, &into).await }));
        sent += 1;
        if sent.is_multiple_of(100) {
            peak_rss = peak_rss.max(svc.rss_kib());
        }
    }
    for call in calls {
        let _ = call.await;
    }
    peak_rss = peak_rss.max(svc.rss_kib());
    let overload = std::mem::take(&mut *overload_outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let admitted_p99 = overload.admitted.quantile(0.99);
    let refused_p99 = overload.refused.quantile(0.99);
    println!(
        "overload: {sent} calls offered at {offered:.0}/s (3x capacity) over {} connections for {} s: {} admitted (p50 {}, p99 {}), {} refused with RESOURCE_EXHAUSTED (p50 {}, p99 {}), {} other errors",
        settings.connections,
        settings.seconds,
        overload.admitted.len(),
        ms(overload.admitted.quantile(0.5)),
        ms(admitted_p99),
        overload.refused.len(),
        ms(overload.refused.quantile(0.5)),
        ms(refused_p99),
        overload.failed
    );
    println!("memory: RSS {} MiB unloaded, {} MiB at most under overload", baseline_rss / 1024, peak_rss / 1024);

    // Nothing acknowledged is lost: kill -9, restart, look for every acknowledged VPC.
    let acknowledged: Vec<String> = [&unloaded.acknowledged, &capacity.acknowledged, &overload.acknowledged]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    svc.kill().await;
    let svc = Service::start(&bin_dir, "initiator-svc", &data, &addr.to_string(), &settings.service_flags).await;
    let stored = all_vpcs(&mut client(svc.addr).await).await;
    let lost = acknowledged.iter().filter(|id| !stored.contains(*id)).count();
    println!(
        "durability: {} acknowledged VPCs, {} found after kill -9 and restart, {lost} lost",
        acknowledged.len(),
        acknowledged.len() - lost
    );
    let ratio = admitted_p99.as_secs_f64() / unloaded_p99.as_secs_f64().max(f64::EPSILON);
    // A refusal costs the service almost nothing: when refusals are slow, the calls queued in this process
    // or for the machine's CPU, and the figures measure that queue, not the service.
    if overload.refused.quantile(0.5) > unloaded_p50 * 10 {
        println!(
            "note: refusals took a median {} (the service answers them without work): the load generator could not offer this rate on this machine",
            ms(overload.refused.quantile(0.5))
        );
    }
    println!(
        "verdict: admitted p99 is {ratio:.2}x the unloaded p99 (target <= 2x): {}; refusals p99 {} (target: at once); {lost} lost (target 0)",
        if ratio <= 2.0 { "met" } else { "NOT met" },
        ms(refused_p99)
    );
    svc.kill().await;
    let _ = std::fs::remove_dir_all(&data);
}

async fn all_vpcs(vpcs: &mut Vpcs) -> HashSet<String> {
    let mut found = HashSet::new();
    for page_number in 1.. {
        let request = pb::DescribeVpcsRequest { page_number, page_size: 50, ..Default::default() };
        let page = vpcs.describe_vpcs(request).await.unwrap_or_else(|e| panic!("describe: {e}")).into_inner();
        let done = page.vpcs.len() < 50;
        found.extend(page.vpcs.into_iter().map(|v| v.vpc_id));
        if done {
            break;
        }
    }
    found
}
