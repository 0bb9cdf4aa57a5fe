//! initiator-svc: the initiating account's control plane (account A by default).

use std::process::ExitCode;

use initiator_svc::{InitiatorArgs, InitiatorRole};
use shared::config::{self, INITIATOR_DEFAULTS};

/// Returns memory to the system once freed (see the workspace manifest).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let about = "Express Connect peering emulator: the initiating account's control plane";
    let (config, args) = config::parse::<InitiatorArgs>(&INITIATOR_DEFAULTS, about);
    let role = InitiatorRole::new(args.peers, config.tls_ca.clone());
    shared::server::run(&INITIATOR_DEFAULTS, config, &role)
}
