//! `peering-bench scale`: both services holding many router interfaces. At each size (10,000, 50,000,
//! 100,000 ends per account by default): a Describe page of 50, resident memory, the time a kill -9'd
//! service takes until it serves again, and the time the two sides take to resync every connection after
//! the peer link drops and returns.
//!
//! Each size holds as many pairs of ends (one in each account, named to each other) as ends per account;
//! every second pair is connected, so 100,000 ends per account make 50,000 connections. The peer link
//! runs through a relay of the benchmark's own ([`Proxy`]), which cuts it and restores it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shared::api::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::peering::{ACCOUNT_A, ACCOUNT_B, Account, Pair};
use crate::proxy::Proxy;
use crate::service::{self, Service};
use crate::stats::{Latencies, ms};

/// A router has at most five ends.
const ENDS_PER_ROUTER: usize = 5;

/// Pairs of ends made before waiting for their connections.
const PRELOAD_CHUNK: usize = 5000;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Ends per account, ascending.
    pub sizes: Vec<usize>,
    /// Concurrent callers while preloading and changing every connection.
    pub callers: usize,
    /// Describe pages fetched one at a time on each side.
    pub describe_calls: usize,
}

/// What one size measured, for the closing table.
struct Figures {
    size: usize,
    describe_p99: [Duration; 2],
    rss_mib: [u64; 2],
    restart: [Duration; 2],
    resync: Duration,
}

pub async fn run(settings: Settings) {
    let steps = settings.sizes.iter().scan(0, |made, &size| Some(size.checked_sub(std::mem::replace(made, size))));
    let valid = steps.into_iter().all(|step| step.is_some_and(|s| s >= ENDS_PER_ROUTER * ENDS_PER_ROUTER))
        && settings.sizes.iter().all(|size| size % ENDS_PER_ROUTER == 0);
    assert!(
        valid,
        "--sizes must be multiples of {ENDS_PER_ROUTER}, ascending by at least 25 each: {:?}",
        settings.sizes
    );
    let bin_dir = service::build();
    let data = std::env::temp_dir().join(format!("peering-bench-scale-{}", std::process::id()));
    let mut b_svc = Service::start(&bin_dir, "acceptor-svc", &data.join("b"), "127.0.0.1:0", &[]).await;
    let relay = Proxy::start(b_svc.addr).await;
    // Calls answer at once (no settle wait): the benchmark waits for statuses on its own, over /metrics.
    let flags = [format!("--peer={ACCOUNT_B}=http://{}", relay.addr), "--settle-wait-ms=0".to_owned()];
    let mut a_svc = Service::start(&bin_dir, "initiator-svc", &data.join("a"), "127.0.0.1:0", &flags).await;
    println!(
        "initiator-svc on {} and acceptor-svc on {} (release, SQLite synchronous=FULL, signed calls, peer link through a relay on {}); {} callers",
        a_svc.addr, b_svc.addr, relay.addr, settings.callers
    );
    let (a, b) = (Account::new(&a_svc, ACCOUNT_A, false).await, Account::new(&b_svc, ACCOUNT_B, false).await);
    let mut made = Made::default();
    let mut figures = Vec::new();
    for &size in &settings.sizes {
        let started = Instant::now();
        while made.pairs < size {
            made.grow(&a, &b, (made.pairs + PRELOAD_CHUNK).min(size), settings.callers).await;
            // Each chunk's connects complete before the next chunk: a backlog of tens of thousands of
            // connects on the peer link would outlast the connect timeout (30 s) and fail them.
            let connected = made.connected();
            until_counts(&[(&a_svc, "Activated", connected), (&b_svc, "Activated", connected)]).await;
        }
        let connected = made.connected();
        println!(
            "\n{size} ends per account ({connected} connections): preloaded through the API in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let describe_p99 =
            [describe(&a, size, settings.describe_calls).await, describe(&b, size, settings.describe_calls).await];
        let rss_mib = [a_svc.rss_kib() / 1024, b_svc.rss_kib() / 1024];
        println!(
            "  resident memory: initiator-svc {} MiB, acceptor-svc {} MiB (target <= 300 MiB each)",
            rss_mib[0], rss_mib[1]
        );

        let restart = [restart(&mut a_svc, &a, "initiator-svc").await, restart(&mut b_svc, &b, "acceptor-svc").await];
        // Both back, the link redialled and every connection agreed again before the next measure.
        until_counts(&[(&a_svc, "Activated", connected), (&b_svc, "Activated", connected)]).await;
        println!(
            "  resident memory after the restarts and the resync that follows: initiator-svc {} MiB, acceptor-svc {} MiB",
            a_svc.rss_kib() / 1024,
            b_svc.rss_kib() / 1024
        );

        let resync = resync(&relay, &a, &a_svc, &b_svc, &made, settings.callers).await;
        println!(
            "  peak resident memory so far: initiator-svc {} MiB, acceptor-svc {} MiB",
            a_svc.peak_rss_kib() / 1024,
            b_svc.peak_rss_kib() / 1024
        );
        figures.push(Figures { size, describe_p99, rss_mib, restart, resync });
    }
    summary(&figures);
    a_svc.kill().await;
    b_svc.kill().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// The pairs of ends made so far, and the routers they sit on.
#[derive(Default)]
struct Made {
    vpcs_a: Vec<String>,
    vpcs_b: Vec<String>,
    /// A's end of every connected pair.
    connected_ends: Vec<String>,
    pairs: usize,
}

impl Made {
    fn connected(&self) -> usize {
        self.connected_ends.len()
    }

    /// Makes pairs of ends up to `size` per account, connecting every second one, `callers` at a time.
    /// The new routers' ends pair only among themselves: each A router's five ends go to five different
    /// B routers (one connection between two routers at most), and each B router gets five.
    async fn grow(&mut self, a: &Account, b: &Account, size: usize, callers: usize) {
        let first_router = self.vpcs_a.len();
        let routers = size.div_ceil(ENDS_PER_ROUTER) - first_router;
        assert!(routers >= ENDS_PER_ROUTER, "sizes must grow by at least {} ends", ENDS_PER_ROUTER * ENDS_PER_ROUTER);
        let account = a.clone();
        let new_a = in_parallel(callers, routers, move |n| {
            let mut a = account.clone();
            let n = first_router + n;
            async move { a.vpc("cn-hangzhou", format!("10.{}.{}.0/24", n / 256, n % 256)).await }
        })
        .await;
        let account = b.clone();
        let new_b = in_parallel(callers, routers, move |n| {
            let mut b = account.clone();
            let n = first_router + n;
            async move { b.vpc("cn-shanghai", format!("172.{}.{}.0/24", 16 + n / 256 % 16, n % 256)).await }
        })
        .await;
        let (new_a, new_b) = (Arc::new(new_a), Arc::new(new_b));
        let first_pair = self.pairs;
        let (a, b, vpcs_a, vpcs_b) = (a.clone(), b.clone(), new_a.clone(), new_b.clone());
        let made = in_parallel(callers, size - first_pair, move |n| {
            let k = n + first_pair - first_router * ENDS_PER_ROUTER;
            let (router, slot) = (k / ENDS_PER_ROUTER, k % ENDS_PER_ROUTER);
            let mut pair = Pair {
                a: a.clone(),
                b: b.clone(),
                vpc_a: vpcs_a[router].clone(),
                vpc_b: vpcs_b[(router + slot) % routers].clone(),
            };
            async move {
                let (a_end, _) = pair.ends().await;
                if n % 2 == 0 {
                    let request =
                        pb::ConnectRouterInterfaceRequest { router_interface_id: a_end.clone(), ..Default::default() };
                    pair.a.ris.connect_router_interface(request).await.unwrap_or_else(|e| panic!("connect: {e}"));
                    Some(a_end)
                } else {
                    None
                }
            }
        })
        .await;
        self.vpcs_a.extend(Arc::unwrap_or_clone(new_a));
        self.vpcs_b.extend(Arc::unwrap_or_clone(new_b));
        self.connected_ends.extend(made.into_iter().flatten());
        self.pairs = size;
    }
}

/// Runs `work(0)` .. `work(count - 1)`, `callers` at a time; the results in order.
async fn in_parallel<T, F, Fut>(callers: usize, count: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let mut tasks = Vec::new();
    for _ in 0..callers.min(count) {
        let (next, work) = (next.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return done;
                }
                done.push((n, work(n).await));
            }
        }));
    }
    let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for task in tasks {
        for (n, result) in task.await.unwrap_or_else(|e| panic!("a caller failed: {e}")) {
            results[n] = Some(result);
        }
    }
    results.into_iter().map(|r| r.unwrap_or_else(|| panic!("an item was not done"))).collect()
}

/// The `peering_router_interfaces` gauge for `status`, read from the service's /metrics; `None` while it
/// does not answer (it is restarting).
async fn count(addr: SocketAddr, status: &str) -> Option<usize> {
    tokio::time::timeout(Duration::from_secs(10), scrape(addr, status)).await.ok().flatten()
}

async fn scrape(addr: SocketAddr, status: &str) -> Option<usize> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    let series = format!("peering_router_interfaces{{status=\"{status}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&series)).and_then(|v| v.trim().parse().ok()).or(Some(0))
}

/// Waits until each service reports at least so many ends in the status.
async fn until_counts(wanted: &[(&Service, &str, usize)]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for (svc, status, n) in wanted {
        loop {
            let seen = count(svc.addr, status).await;
            if seen.is_some_and(|seen| seen >= *n) {
                break;
            }
            assert!(Instant::now() < deadline, "{} reports {seen:?} ends {status}, not {n}", svc.addr);
            // A scrape counts every end (under the account's lock): often enough to time a resync to a
            // few tens of milliseconds, rarely enough not to slow it.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Describe pages of 50 spread over every page, one at a time; prints and returns the p99.
async fn describe(account: &Account, size: usize, calls: usize) -> Duration {
    let mut ris = account.ris.clone();
    let pages = size.div_ceil(50);
    let mut latencies = Latencies::default();
    for n in 0..calls {
        // A stride prime to the number of pages visits them all, first and last included.
        let page = 1 + (n * 7919) % pages;
        let request = pb::DescribeRouterInterfacesRequest {
            page_number: i32::try_from(page).unwrap_or(i32::MAX),
            page_size: 50,
            ..Default::default()
        };
        let started = Instant::now();
        let answer = ris.describe_router_interfaces(request).await.unwrap_or_else(|e| panic!("describe: {e}"));
        latencies.push(started.elapsed());
        let answer = answer.into_inner();
        assert_eq!(answer.router_interfaces.len(), 50.min(size - (page - 1) * 50), "page {page}");
        assert_eq!(usize::try_from(answer.total_count).unwrap_or(0), size);
    }
    let p99 = latencies.quantile(0.99);
    println!(
        "  DescribeRouterInterfaces, a page of 50 ({} pages, {calls} calls): p50 {}, p99 {} (target p99 <= 10 ms)",
        pages,
        ms(latencies.quantile(0.5)),
        ms(p99)
    );
    p99
}

/// kill -9 and start again on the same data: the time from the start until a Describe page is answered.
async fn restart(svc: &mut Service, account: &Account, name: &str) -> Duration {
    let started = Instant::now();
    svc.crash_and_restart().await;
    let announced = started.elapsed();
    let mut ris = account.ris.clone();
    let request = pb::DescribeRouterInterfacesRequest { page_size: 50, ..Default::default() };
    while ris.describe_router_interfaces(request.clone()).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(120), "{name} does not serve 120 s after its restart");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let serving = started.elapsed();
    println!(
        "  restart after kill -9, {name}: serving (a Describe page answered) after {} (listening after {}; target <= 3 s)",
        ms(serving),
        ms(announced)
    );
    serving
}

/// No byte across the peer link for so long: the two sides have nothing left to tell each other.
const QUIET: Duration = Duration::from_millis(300);

/// Cuts the link, changes every connection on A's side (it answers, its ends in a transitional status),
/// restores the link and times until both sides agree on every connection. Suspends, then activates, so
/// every connection is Activated again after.
async fn resync(relay: &Proxy, a: &Account, a_svc: &Service, b_svc: &Service, made: &Made, callers: usize) -> Duration {
    let connected = made.connected();
    let ends = Arc::new(made.connected_ends.clone());
    let mut slowest = Duration::ZERO;
    for (change, transitional, settled) in
        [("suspend", "Suspending", "Suspended"), ("activate", "Activating", "Activated")]
    {
        // From a quiet link: nothing of an earlier step still on its way.
        relay.until_quiet(QUIET).await;
        relay.cut();
        let (a, ends) = (a.clone(), ends.clone());
        in_parallel(callers, connected, move |n| {
            let (mut ris, id) = (a.ris.clone(), ends[n].clone());
            async move {
                let answer = if change == "suspend" {
                    let request =
                        pb::DeactivateRouterInterfaceRequest { router_interface_id: id, ..Default::default() };
                    ris.deactivate_router_interface(request).await.map(|r| r.into_inner().status())
                } else {
                    let request = pb::ActivateRouterInterfaceRequest { router_interface_id: id, ..Default::default() };
                    ris.activate_router_interface(request).await.map(|r| r.into_inner().status())
                };
                answer.unwrap_or_else(|e| panic!("{change}: {e}"))
            }
        })
        .await;
        until_counts(&[(a_svc, transitional, connected)]).await;
        let restored = Instant::now();
        relay.restore();
        let reconnected = relay.reconnected().await;
        until_counts(&[(a_svc, settled, connected), (b_svc, settled, connected)]).await;
        let resynced = reconnected.elapsed();
        let restored = restored.elapsed();
        // The initiator's ends then hear the acceptor's ends settled (their view of the other end).
        relay.until_quiet(QUIET).await;
        let quiet = reconnected.elapsed().saturating_sub(QUIET);
        println!(
            "  resync after the link returned, {connected} connections to {change} (both sides {settled}): {} from the initiator's reconnect ({} after the link returned, incl. its redial back-off; target <= 2 s); the link quiet after {}",
            ms(resynced),
            ms(restored),
            ms(quiet)
        );
        slowest = slowest.max(resynced);
    }
    slowest
}

fn summary(figures: &[Figures]) {
    println!("\nends per account | Describe p99 A / B | RSS A / B | restart A / B | resync (slowest)");
    for f in figures {
        println!(
            "{:>16} | {} / {} | {} / {} MiB | {} / {} | {}",
            f.size,
            ms(f.describe_p99[0]),
            ms(f.describe_p99[1]),
            f.rss_mib[0],
            f.rss_mib[1],
            ms(f.restart[0]),
            ms(f.restart[1]),
            ms(f.resync)
        );
    }
    if let (Some(first), Some(last)) = (figures.first(), figures.last()) {
        let growth = last.size as f64 / first.size as f64;
        let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(f64::EPSILON);
        println!(
            "from {} to {} ends ({growth:.0}x): Describe p99 {:.1}x, memory {:.1}x / {:.1}x, restart {:.1}x / {:.1}x, resync {:.1}x (linear or better: at most {growth:.0}x)",
            first.size,
            last.size,
            ratio(first.describe_p99[0], last.describe_p99[0]),
            last.rss_mib[0] as f64 / first.rss_mib[0].max(1) as f64,
            last.rss_mib[1] as f64 / first.rss_mib[1].max(1) as f64,
            ratio(first.restart[0], last.restart[0]),
            ratio(first.restart[1], last.restart[1]),
            ratio(first.resync, last.resync)
        );
    }
}
