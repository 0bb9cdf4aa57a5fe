//! The protocol under faults, by deterministic simulation: a fixed set of seeds in CI, each failing seed
//! printed with the command that replays it; `SIM_SEED=N` replays one seed alone.

use sim::{Report, Settings, run};

const CI_SEEDS: u64 = 200;
const OPERATIONS: usize = 100;
const FAULTS: usize = 5;

fn describe(report: &Report) -> String {
    format!(
        "seed {}: {} operations, {} faults, {:?} simulated, acknowledged {:?}, final statuses {:?}",
        report.seed, report.operations, report.faults, report.simulated, report.acknowledged, report.final_statuses
    )
}

#[test]
fn replay() {
    let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) else { return };
    let report = run(Settings { seed, operations: OPERATIONS, faults: FAULTS });
    println!("{}", describe(&report));
    assert!(report.violations.is_empty(), "seed {seed}:\n{}", report.violations.join("\n"));
}

#[test]
fn fixed_seeds_hold_every_invariant() {
    let seeds: Vec<u64> = (1..=CI_SEEDS).collect();
    let reports: Vec<Report> = std::thread::scope(|scope| {
        let halves: Vec<_> = seeds
            .chunks(seeds.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&seed| run(Settings { seed, operations: OPERATIONS, faults: FAULTS }))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().expect("a simulation thread")).collect()
    });
    let failing: Vec<&Report> = reports.iter().filter(|r| !r.violations.is_empty()).collect();
    for r in &failing {
        eprintln!(
            "{}\n  {}\n  replay: SIM_SEED={} cargo test -p sim --test seeds replay -- --nocapture",
            describe(r),
            r.violations.join("\n  "),
            r.seed
        );
    }
    let operations: usize = reports.iter().map(|r| r.operations).sum();
    let faults: usize = reports.iter().map(|r| r.faults).sum();
    println!("{} seeds, {operations} operations, {faults} faults, {} failing", reports.len(), failing.len());
    assert!(
        reports.iter().all(|r| r.operations >= OPERATIONS && r.faults >= FAULTS),
        "every seed ran its operations and faults"
    );
    assert!(failing.is_empty(), "failing seeds: {:?}", failing.iter().map(|r| r.seed).collect::<Vec<_>>());
    // The runs did real work: connections were made, suspended, activated and deleted.
    let acknowledged =
        |kind: &str| reports.iter().map(|r| r.acknowledged.get(kind).copied().unwrap_or(0)).sum::<usize>();
    for kind in ["new connection", "connect", "suspend", "activate", "delete"] {
        assert!(acknowledged(kind) > 0, "no {kind} was ever acknowledged");
    }
}
