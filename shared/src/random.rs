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
}

/// From now on this thread's randomness is the sequence of `seed`; `None` returns to the OS's.
pub fn seed_this_thread(seed: Option<u64>) {
    SEEDED.with(|s| s.set(seed));
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
