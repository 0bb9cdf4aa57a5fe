//! initiator-svc: the initiating account's control plane (account A by default).

use std::process::ExitCode;

use shared::config::INITIATOR_DEFAULTS;

#[tokio::main]
async fn main() -> ExitCode {
    shared::server::main(
        &INITIATOR_DEFAULTS,
        "Express Connect peering emulator: the initiating account's control plane",
    )
    .await
}
