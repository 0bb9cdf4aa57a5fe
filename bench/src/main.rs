//! peering-bench: benchmarks of the real services, printing figures (BENCHMARKS.md records them).
//!
//! `cargo run --release -p bench -- peering`, `... -- scale`, `... -- overload`

mod board;
mod disk;
mod overload;
mod peering;
mod proxy;
mod scale;
mod service;
mod stats;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "peering-bench", about = "Benchmarks of the Express Connect peering emulator's real services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Both services: the floor (a bare gRPC call), connect latency across the accounts against it, and
    /// lifecycles per second at many concurrent callers with each step's latency.
    Peering {
        /// Concurrent callers for the floor's throughput and for the lifecycles.
        #[arg(long, default_value_t = 32)]
        callers: usize,
        /// Length of the throughput phases, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Health checks one at a time for the floor's latency.
        #[arg(long, default_value_t = 2000)]
        floor_calls: usize,
        /// Connections made one at a time for the connect latency.
        #[arg(long, default_value_t = 200)]
        connects: usize,
    },
    /// Both services holding many router interfaces: at each size, a Describe page of 50, resident memory,
    /// restart after kill -9 until serving, and the resync of every connection after the peer link drops.
    Scale {
        /// Router interfaces per account at each step (half of them in connections), ascending.
        #[arg(long, value_delimiter = ',', default_value = "10000,50000,100000")]
        sizes: Vec<usize>,
        /// Concurrent callers while preloading and while changing every connection.
        #[arg(long, default_value_t = 32)]
        callers: usize,
        /// Describe pages fetched one at a time on each side.
        #[arg(long, default_value_t = 500)]
        describe_calls: usize,
    },
    /// One service unloaded, at capacity, and offered three times its capacity; then kill -9 and a check
    /// that every acknowledged call survived.
    Overload {
        /// Length of the capacity and the overload phases, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Closed-loop callers that measure the capacity: as many as the service's write slots (64 by
        /// default) keep every slot busy without refusals.
        #[arg(long, default_value_t = 64)]
        callers: usize,
        /// Connections the overload is spread over.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Calls one at a time for the unloaded figures.
        #[arg(long, default_value_t = 500)]
        unloaded_calls: usize,
        /// Extra flags for the service, e.g. --service-flag=--max-concurrent-writes=1.
        #[arg(long = "service-flag", allow_hyphen_values = true)]
        service_flags: Vec<String>,
    },
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Peering { callers, seconds, floor_calls, connects } => {
            peering::run(peering::Settings { callers, seconds, floor_calls, connects }).await;
        }
        Command::Scale { sizes, callers, describe_calls } => {
            scale::run(scale::Settings { sizes, callers, describe_calls }).await;
        }
        Command::Overload { seconds, callers, connections, unloaded_calls, service_flags } => {
            overload::run(overload::Settings { seconds, callers, connections, unloaded_calls, service_flags }).await;
        }
    }
}
