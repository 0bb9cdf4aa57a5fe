//! The wall clock used for timestamps (and, later, billing). Injectable so tests and operators can move it.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Time as the async runtime sees it, from a fixed start: under a simulator that controls tokio time this
/// makes timestamps deterministic.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeClock {
    start: tokio::time::Instant,
    epoch: DateTime<Utc>,
}

impl RuntimeClock {
    pub fn new(epoch: DateTime<Utc>) -> Self {
        Self { start: tokio::time::Instant::now(), epoch }
    }
}

impl Clock for RuntimeClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.start.elapsed()).unwrap_or_default();
        self.epoch + elapsed
    }
}

/// Waits `delay` before a message to the other account (`--transition-delay-ms`, for demos). No delay is
/// no wait at all: even a zero-length timer waits for the runtime's next millisecond tick.
pub async fn transition_pause(delay: std::time::Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}
