//! `cargo run -p sim --release -- --seeds 10000`: a soak of many seeds, with a summary.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Soak the peer protocol: run many seeded simulations and summarise")]
struct Args {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first: u64,
    #[arg(long, default_value_t = 100)]
    operations: usize,
    #[arg(long, default_value_t = 5)]
    faults: usize,
    /// Simulations run in parallel.
    #[arg(long, default_value_t = 2)]
    threads: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let next = AtomicU64::new(args.first);
    let (operations, faults) = (AtomicU64::new(0), AtomicU64::new(0));
    let failed: Mutex<Vec<(u64, Vec<String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..args.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= args.first + args.seeds {
                        return;
                    }
                    let report = sim::run(sim::Settings { seed, operations: args.operations, faults: args.faults });
                    operations.fetch_add(report.operations as u64, Ordering::Relaxed);
                    faults.fetch_add(report.faults as u64, Ordering::Relaxed);
                    if !report.violations.is_empty() {
                        eprintln!("seed {seed}: {} violation(s); replay with SIM_SEED={seed}", report.violations.len());
                        failed
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((seed, report.violations));
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let violations: usize = failed.iter().map(|(_, v)| v.len()).sum();
    println!(
        "runs: {}  operations: {}  faults: {}  violations: {}  failing seeds: {:?}  wall time: {:.1?}",
        args.seeds,
        operations.into_inner(),
        faults.into_inner(),
        violations,
        failed.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        started.elapsed()
    );
    for (seed, v) in failed.iter().take(3) {
        println!("seed {seed}:\n  {}", v.join("\n  "));
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
