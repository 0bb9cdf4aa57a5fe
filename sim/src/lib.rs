//! Deterministic simulation (turmoil) of the real initiator-svc and acceptor-svc code as three accounts on
//! simulated hosts, each with its real SQLite store in its own directory, driven by random operations from
//! every owner under partitions, held messages, latency and crashes, with an invariant checker.
//!
//! A run is a function of its seed: the network's choices, the users' choices and the services' ids all
//! come from it. `SIM_SEED=N cargo test -p sim --test seeds replay` replays one.

pub mod checker;
mod driver;
mod faults;
pub mod model;
pub mod net;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use acceptor_svc::AcceptorRole;
use initiator_svc::InitiatorRole;
use shared::config::{ACCEPTOR_DEFAULTS, Defaults, INITIATOR_DEFAULTS, PeerAddress, Runtime, ServiceConfig, Storage};
use shared::random::SplitMix64;
use shared::server::{Role, serve_on};

use driver::{Board, Driver};
use faults::Faults;

/// The simulated hosts and their accounts: A initiates, B and C accept.
pub const ACCOUNTS: [(&str, &str); 3] =
    [("a", "1000000000000001"), ("b", "1000000000000002"), ("c", "1000000000000003")];

/// Once the network healed, every invariant must hold within this much simulated time.
pub const CONVERGENCE_BOUND: Duration = Duration::from_secs(60);

/// A connect nobody answers goes back to Idle after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub seed: u64,
    pub operations: usize,
    pub faults: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub seed: u64,
    pub operations: usize,
    pub faults: usize,
    pub violations: Vec<String>,
    pub simulated: Duration,
    /// Calls answered OK, by kind.
    pub acknowledged: std::collections::BTreeMap<&'static str, usize>,
    /// How many ends ended in each status.
    pub final_statuses: std::collections::BTreeMap<String, usize>,
}

fn config(defaults: &Defaults, account_id: &str, dir: PathBuf) -> ServiceConfig {
    let listen = std::net::SocketAddr::from(([0, 0, 0, 0], net::PORT));
    let mut config = ServiceConfig::new(defaults, listen, Storage::Directory(dir));
    config.account_id = account_id.to_owned();
    config.runtime = Runtime::Simulated;
    config.connect_timeout = CONNECT_TIMEOUT;
    config.settle_wait = Duration::from_secs(1);
    config.credentials.development = true;
    config
}

/// One simulation.
pub fn run(settings: Settings) -> Report {
    shared::random::seed_this_thread(Some(settings.seed));
    let root = std::env::temp_dir().join(format!("peering-sim-{}-{}", std::process::id(), settings.seed));
    let report = simulate(settings, &root);
    let _ = std::fs::remove_dir_all(&root);
    shared::random::seed_this_thread(None);
    report
}

fn simulate(settings: Settings, root: &std::path::Path) -> Report {
    let mut rng = SplitMix64::new(settings.seed);
    let mut sim = turmoil::Builder::new()
        .rng_seed(settings.seed)
        .simulation_duration(Duration::from_secs(3600))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(2 + rng.below(60)))
        .build();
    for (host, account) in ACCOUNTS {
        let (defaults, role): (&Defaults, Arc<dyn Role>) = if host == "a" {
            let peers = ACCOUNTS[1..]
                .iter()
                .map(|(h, a)| PeerAddress { account_id: (*a).to_owned(), url: format!("http://{h}:{}", net::PORT) })
                .collect();
            (&INITIATOR_DEFAULTS, Arc::new(InitiatorRole { peers, dialer: Arc::new(net::SimDialer) }))
        } else {
            (&ACCEPTOR_DEFAULTS, Arc::new(AcceptorRole))
        };
        let config = config(defaults, account, root.join(host));
        sim.host(host, move || {
            let (config, role) = (config.clone(), role.clone());
            async move {
                let incoming = net::incoming().await?;
                serve_on(&config, role.as_ref(), incoming, std::future::pending()).await?;
                Ok(())
            }
        });
    }
    let board = Rc::new(RefCell::new(Board::default()));
    sim.client("users", Driver::new(settings.seed, board.clone(), settings.operations, settings.faults).run());

    let mut faults = Faults::default();
    let mut failure = None;
    loop {
        let finished = match sim.step() {
            Ok(finished) => finished,
            Err(e) => {
                failure = Some(format!("the simulation failed: {e}"));
                break;
            }
        };
        let requests: Vec<_> = board.borrow_mut().requests.drain(..).collect();
        for (inject, fault) in requests {
            if inject { faults.inject(&mut sim, &fault) } else { faults.heal(&mut sim, &fault) }
        }
        let heal_now = {
            let b = board.borrow();
            b.operations_done && !b.healed
        };
        if heal_now {
            faults.heal_all(&mut sim);
            board.borrow_mut().healed = true;
        }
        if finished {
            break;
        }
    }
    let board = board.borrow();
    let mut violations = board.violations.clone();
    violations.extend(failure);
    Report {
        seed: settings.seed,
        operations: board.operations,
        faults: board.faults,
        violations,
        simulated: sim.elapsed(),
        acknowledged: board.acknowledged.clone(),
        final_statuses: board.final_statuses.clone(),
    }
}
