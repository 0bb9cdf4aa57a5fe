//! Reconnect delays: exponential, capped, with jitter so that many initiators do not retry in step.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Self { next: FIRST }
    }

    pub fn reset(&mut self) {
        self.next = FIRST;
    }

    /// The delay before the next attempt: the current step, jittered to between half and all of it.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(MAX);
        let fraction = f64::from(shared::random::next_u128() as u16) / f64::from(u16::MAX);
        step.mul_f64(0.5 + fraction / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new();
        let first = b.next_delay();
        assert!(first >= FIRST / 2 && first <= FIRST);
        for _ in 0..20 {
            assert!(b.next_delay() <= MAX);
        }
        assert!(b.next_delay() >= MAX / 2);
        b.reset();
        assert!(b.next_delay() <= FIRST);
    }
}
