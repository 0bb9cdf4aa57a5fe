//! Overload protection: past its capacity a service answers RESOURCE_EXHAUSTED at once instead of queueing
//! without bound. The scarce resource is the account itself (its changes wait for the disk together), so
//! the limit sits around the account's work, not around whole calls: a Connect waiting for the other
//! account holds no slot. In front of the services, a call that would find no slot is refused before any work is
//! spent on it, and an optional rate limit caps the calls per second. Internal work (the peer link, the
//! clocks) is never turned away.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::DomainError;
use crate::grpc::refuse;

/// How many account operations of each kind may be in progress at once, and how many public calls a
/// second are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub concurrent_writes: usize,
    pub concurrent_reads: usize,
    /// 0: no rate limit.
    pub calls_per_second: u32,
}

impl Default for Limits {
    /// Changes in progress share one commit (group commit), so a test suite's parallel callers are all
    /// admitted; past 64 a change would only wait longer.
    fn default() -> Self {
        Self { concurrent_writes: 64, concurrent_reads: 64, calls_per_second: 0 }
    }
}

/// The account's slots for public calls.
#[derive(Debug, Clone)]
pub struct Slots {
    writes: Arc<Semaphore>,
    reads: Arc<Semaphore>,
    limits: Limits,
}

impl Slots {
    pub fn new(limits: Limits) -> Self {
        Self {
            writes: Arc::new(Semaphore::new(limits.concurrent_writes.max(1))),
            reads: Arc::new(Semaphore::new(limits.concurrent_reads.max(1))),
            limits,
        }
    }

    /// A slot for a call that changes state, or RESOURCE_EXHAUSTED at once.
    pub fn write(&self) -> Result<OwnedSemaphorePermit, DomainError> {
        take(&self.writes, self.limits.concurrent_writes, "calls that change state")
    }

    /// A slot for a read.
    pub fn read(&self) -> Result<OwnedSemaphorePermit, DomainError> {
        take(&self.reads, self.limits.concurrent_reads, "reads")
    }

    /// Whether a call to `path` would find no slot now: refused before any work is spent on it.
    fn full_for(&self, path: &str) -> Option<DomainError> {
        let (semaphore, limit, what) = match kind(path)? {
            Kind::Write => (&self.writes, self.limits.concurrent_writes, "calls that change state"),
            Kind::Read => (&self.reads, self.limits.concurrent_reads, "reads"),
        };
        (semaphore.available_permits() == 0).then(|| at_capacity(limit, what))
    }
}

/// The public API's calls, by what they do to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

/// What `path` is; `None`: not a public account call (health, reflection, the peer link) or a watch stream
/// (limited by count, not slots).
fn kind(path: &str) -> Option<Kind> {
    let method = path.strip_prefix("/expressconnect.v1.")?.rsplit('/').next()?;
    if method.starts_with("Watch") {
        None
    } else if ["Describe", "Get", "Check"].iter().any(|read| method.starts_with(read)) {
        Some(Kind::Read)
    } else {
        Some(Kind::Write)
    }
}

impl Default for Slots {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

fn take(semaphore: &Arc<Semaphore>, limit: usize, what: &str) -> Result<OwnedSemaphorePermit, DomainError> {
    semaphore.clone().try_acquire_owned().map_err(|_| at_capacity(limit, what))
}

fn at_capacity(limit: usize, what: &str) -> DomainError {
    DomainError::exhausted(
        "Throttling",
        format!("the service is at capacity ({limit} {what} in progress); retry with backoff"),
    )
}

/// A token bucket: `rate` tokens a second, at most `rate` saved up.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// In front of every service: a public call that would find no slot is refused before any work is spent
/// on it (not even its signature is checked), and at most `calls_per_second` public calls a second are
/// taken (0: no limit).
#[derive(Debug, Clone)]
pub struct AdmissionLayer {
    slots: Slots,
    bucket: Option<Arc<Mutex<Bucket>>>,
    calls_per_second: u32,
}

impl AdmissionLayer {
    pub fn new(slots: Slots, calls_per_second: u32) -> Self {
        let rate = f64::from(calls_per_second);
        let bucket =
            (calls_per_second > 0).then(|| Arc::new(Mutex::new(Bucket { rate, tokens: rate, at: Instant::now() })));
        Self { slots, bucket, calls_per_second }
    }

    fn admit(&self, path: &str) -> Result<(), DomainError> {
        if let Some(full) = self.slots.full_for(path) {
            return Err(full);
        }
        let Some(bucket) = self.bucket.as_ref().filter(|_| path.starts_with("/expressconnect.v1.")) else {
            return Ok(());
        };
        let mut bucket = bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if bucket.take(Instant::now()) {
            Ok(())
        } else {
            Err(DomainError::exhausted(
                "Throttling.User",
                format!(
                    "more than {} calls a second; slow down and retry (--max-calls-per-second)",
                    self.calls_per_second
                ),
            ))
        }
    }
}

impl<S> tower::Layer<S> for AdmissionLayer {
    type Service = Admitted<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admitted { layer: self.clone(), inner }
    }
}

#[derive(Debug, Clone)]
pub struct Admitted<S> {
    layer: AdmissionLayer,
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Admitted<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = crate::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        match self.layer.admit(request.uri().path()) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(refusal) => refuse(refusal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_a_call_is_turned_away_at_once_and_a_finished_one_makes_room() {
        let slots = Slots::new(Limits { concurrent_writes: 2, concurrent_reads: 1, calls_per_second: 0 });
        let first = slots.write().unwrap();
        let _second = slots.write().unwrap();
        assert_eq!(slots.write().unwrap_err().reason, "Throttling");
        let _read = slots.read().unwrap();
        assert!(slots.read().is_err());
        let layer = AdmissionLayer::new(slots.clone(), 0);
        assert_eq!(layer.admit("/expressconnect.v1.VpcService/CreateVpc").unwrap_err().reason, "Throttling");
        assert!(layer.admit("/expressconnect.peer.v1.PeerLink/Deliver").is_ok());
        assert!(layer.admit("/expressconnect.v1.RouterInterfaceService/WatchRouterInterfaces").is_ok());
        drop(first);
        assert!(slots.write().is_ok());
    }

    #[test]
    fn calls_are_sorted_by_what_they_do() {
        assert_eq!(kind("/expressconnect.v1.VpcService/CreateVpc"), Some(Kind::Write));
        assert_eq!(kind("/expressconnect.v1.RouterInterfaceService/DescribeRouterInterfaces"), Some(Kind::Read));
        assert_eq!(kind("/expressconnect.v1.VpcService/CheckReachability"), Some(Kind::Read));
        assert_eq!(kind("/expressconnect.v1.RouterInterfaceService/WatchRouterInterfaces"), None);
        assert_eq!(kind("/grpc.health.v1.Health/Check"), None);
    }

    #[test]
    fn the_rate_limit_refills_over_time_and_spares_everything_but_the_public_api() {
        let mut bucket = Bucket { rate: 2.0, tokens: 2.0, at: Instant::now() };
        let start = bucket.at;
        assert!(bucket.take(start) && bucket.take(start));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + std::time::Duration::from_millis(600)));
        let layer = AdmissionLayer::new(Slots::default(), 1);
        assert!(layer.admit("/expressconnect.v1.VpcService/CreateVpc").is_ok());
        assert_eq!(layer.admit("/expressconnect.v1.VpcService/CreateVpc").unwrap_err().reason, "Throttling.User");
        assert!(layer.admit("/expressconnect.peer.v1.PeerLink/Deliver").is_ok());
        let unlimited = AdmissionLayer::new(Slots::default(), 0);
        assert!((0..100).all(|_| unlimited.admit("/expressconnect.v1.VpcService/CreateVpc").is_ok()));
    }
}
