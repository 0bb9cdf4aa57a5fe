//! acceptor-svc: the accepting account's control plane (account B by default).

use std::process::ExitCode;

use acceptor_svc::AcceptorRole;
use shared::config::{self, ACCEPTOR_DEFAULTS};

/// acceptor-svc has no flags of its own beyond the shared ones.
#[derive(Debug, clap::Args)]
struct NoFlags {}

/// Returns memory to the system once freed (see the workspace manifest).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let about = "Express Connect peering emulator: the accepting account's control plane";
    let (config, NoFlags {}) = config::parse::<NoFlags>(&ACCEPTOR_DEFAULTS, about);
    shared::server::run(&ACCEPTOR_DEFAULTS, config, &AcceptorRole)
}
