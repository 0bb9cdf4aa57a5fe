//! Overload protection: past its capacity a service answers RESOURCE_EXHAUSTED at once instead of queueing
//! without bound. Calls that change state are few at a time (they take the account's lock and wait for the
//! disk, so admitting more only makes each wait longer); reads get more room; an optional rate limit caps
//! the calls per second. Health, reflection and the peer link are never turned away here.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::DomainError;
use crate::grpc::to_status;

/// How many calls of each kind may be in progress at once, and how many calls a second are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub concurrent_writes: usize,
    pub concurrent_reads: usize,
    /// 0: no rate limit.
    pub calls_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { concurrent_writes: 8, concurrent_reads: 64, calls_per_second: 0 }
    }
}

/// The public API's calls, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

/// What the admission layer counts `path` as; `None`: not limited (health, reflection, peer link, and
/// watch streams, which have their own limit).
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

#[derive(Debug, Clone)]
pub struct AdmissionLayer {
    writes: Arc<Semaphore>,
    reads: Arc<Semaphore>,
    bucket: Option<Arc<Mutex<Bucket>>>,
    limits: Limits,
}

impl AdmissionLayer {
    pub fn new(limits: Limits) -> Self {
        let rate = f64::from(limits.calls_per_second);
        Self {
            writes: Arc::new(Semaphore::new(limits.concurrent_writes.max(1))),
            reads: Arc::new(Semaphore::new(limits.concurrent_reads.max(1))),
            bucket: (limits.calls_per_second > 0)
                .then(|| Arc::new(Mutex::new(Bucket { rate, tokens: rate, at: Instant::now() }))),
            limits,
        }
    }

    /// A permit for a call to `path`, or why not. `Ok(None)`: the call is not limited.
    fn admit(&self, path: &str) -> Result<Option<OwnedSemaphorePermit>, DomainError> {
        let Some(kind) = kind(path) else {
            return Ok(None);
        };
        if let Some(bucket) = &self.bucket {
            let mut bucket = bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !bucket.take(Instant::now()) {
                return Err(DomainError::exhausted(
                    "Throttling.User",
                    format!(
                        "more than {} calls a second; slow down and retry (--max-calls-per-second)",
                        self.limits.calls_per_second
                    ),
                ));
            }
        }
        let (semaphore, limit, what) = match kind {
            Kind::Write => (&self.writes, self.limits.concurrent_writes, "calls that change state"),
            Kind::Read => (&self.reads, self.limits.concurrent_reads, "reads"),
        };
        semaphore.clone().try_acquire_owned().map(Some).map_err(|_| {
            DomainError::exhausted(
                "Throttling",
                format!("the service is at capacity ({limit} {what} in progress); retry with backoff"),
            )
        })
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
            Ok(permit) => {
                let answer = self.inner.call(request);
                Box::pin(async move {
                    let response = answer.await;
                    drop(permit);
                    response
                })
            }
            Err(refusal) => {
                let response = to_status(refusal).into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_sorted_by_what_they_do() {
        assert_eq!(kind("/expressconnect.v1.VpcService/CreateVpc"), Some(Kind::Write));
        assert_eq!(kind("/expressconnect.v1.RouterInterfaceService/DescribeRouterInterfaces"), Some(Kind::Read));
        assert_eq!(kind("/expressconnect.v1.VpcService/CheckReachability"), Some(Kind::Read));
        assert_eq!(kind("/expressconnect.v1.RouterInterfaceService/WatchRouterInterfaces"), None);
        assert_eq!(kind("/expressconnect.peer.v1.PeerLink/Deliver"), None);
        assert_eq!(kind("/grpc.health.v1.Health/Check"), None);
    }

    #[test]
    fn past_the_limit_a_call_is_turned_away_at_once_and_a_finished_one_makes_room() {
        let layer = AdmissionLayer::new(Limits { concurrent_writes: 2, concurrent_reads: 1, calls_per_second: 0 });
        const CREATE: &str = "/expressconnect.v1.VpcService/CreateVpc";
        let first = layer.admit(CREATE).unwrap();
        let _second = layer.admit(CREATE).unwrap();
        assert_eq!(layer.admit(CREATE).unwrap_err().reason, "Throttling");
        let _read = layer.admit("/expressconnect.v1.VpcService/DescribeVpcs").unwrap();
        drop(first);
        assert!(layer.admit(CREATE).is_ok());
        assert!(layer.admit("/expressconnect.peer.v1.PeerLink/Deliver").unwrap().is_none());
    }

    #[test]
    fn the_rate_limit_refills_over_time() {
        let mut bucket = Bucket { rate: 2.0, tokens: 2.0, at: Instant::now() };
        let start = bucket.at;
        assert!(bucket.take(start) && bucket.take(start));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + std::time::Duration::from_millis(600)));
    }
}
