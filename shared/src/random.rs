//! Randomness for ids and jitter: the operating system's, unless a deterministic simulator seeds this
//! thread (a simulation runs on one thread, so a seed then replays a run exactly).

use std::cell::Cell;

/// SplitMix64: a small, fast generator with good statistics, enough for ids and simulation choices.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

thread_local! {
    static SEEDED: Cell<Option<u64>> = const { Cell::new(None) };
    /// Under a seed, how many ascending numbers this thread has made.
    static SEEDED_COUNT: Cell<u64> = const { Cell::new(0) };
}

/// From now on this thread's randomness is the sequence of `seed`; `None` returns to the OS's.
pub fn seed_this_thread(seed: Option<u64>) {
    SEEDED.with(|s| s.set(seed));
    SEEDED_COUNT.with(|c| c.set(0));
}

/// The width of [`next_ascending`]'s numbers.
pub const ASCENDING_BITS: u32 = 113;

/// A number of [`ASCENDING_BITS`] bits greater than every one this process made before: a version 7 UUID
/// (the wall clock's milliseconds, then a counter the uuid crate keeps strictly increasing in the process,
/// then random bits) less its last 15 random bits. Under a seed: a count, then the seeded sequence's bits.
pub fn next_ascending() -> u128 {
    let unused = 128 - ASCENDING_BITS;
    if SEEDED.with(Cell::get).is_some() {
        let count = SEEDED_COUNT.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        return (u128::from(count) << 64 | (next_u128() >> 64)) & (u128::MAX >> unused);
    }
    uuid::Uuid::now_v7().as_u128() >> unused
}

/// 128 random bits.
pub fn next_u128() -> u128 {
    SEEDED.with(|s| match s.get() {
        Some(state) => {
            let mut rng = SplitMix64::new(state);
            let (high, low) = (rng.next_u64(), rng.next_u64());
            s.set(Some(rng.0));
            (u128::from(high) << 64) | u128::from(low)
        }
        None => uuid::Uuid::new_v4().as_u128(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_a_seed_ascending_numbers_ascend_and_replay() {
        let run = || {
            seed_this_thread(Some(7));
            let made: Vec<u128> = (0..100).map(|_| next_ascending()).collect();
            seed_this_thread(None);
            made
        };
        let first = run();
        assert!(first.windows(2).all(|w| w[0] < w[1]));
        assert!(first.iter().all(|&n| n >> ASCENDING_BITS == 0));
        assert_eq!(first, run());
    }

    #[test]
    fn unseeded_ascending_numbers_ascend_across_threads() {
        let made: Vec<Vec<u128>> = std::thread::scope(|scope| {
            let threads: Vec<_> =
                (0..4).map(|_| scope.spawn(|| (0..1000).map(|_| next_ascending()).collect())).collect();
            threads.into_iter().map(|t| t.join().unwrap_or_default()).collect()
        });
        let mut all: Vec<u128> = made.iter().flatten().copied().collect();
        assert!(made.iter().all(|one| one.windows(2).all(|w| w[0] < w[1])));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4000, "every number is new");
    }
}
