//! One account's control plane, shared by `initiator-svc` and `acceptor-svc`: the domain model and its
//! rules (pure, no I/O), the durable store, the account that applies commands, the public gRPC services
//! and the server bootstrap.

pub mod account;
pub mod admission;
pub mod api;
pub mod auth;
pub mod billing_clock;
pub mod clock;
pub mod config;
pub mod connect_timeout;
pub mod domain;
pub mod grpc;
pub mod metrics;
pub mod random;
pub mod server;
pub mod store;

/// The future of a tower layer that does some work around the inner service's.
pub(crate) type BoxFuture<T, E> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;
