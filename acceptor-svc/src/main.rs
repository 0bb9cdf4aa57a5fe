//! acceptor-svc: the accepting account's control plane (account B by default).

use std::process::ExitCode;

use shared::config::ACCEPTOR_DEFAULTS;

#[tokio::main]
async fn main() -> ExitCode {
    shared::server::main(
        &ACCEPTOR_DEFAULTS,
        "Express Connect peering emulator: the accepting account's control plane",
    )
    .await
}
