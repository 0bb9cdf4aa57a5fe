//! One account's control plane, shared by `initiator-svc` and `acceptor-svc`: the domain model and its
//! rules (pure, no I/O), the durable store, the account that applies commands, the public gRPC services
//! and the server bootstrap.

pub mod account;
pub mod api;
pub mod auth;
pub mod billing_clock;
pub mod clock;
pub mod config;
pub mod connect_timeout;
pub mod domain;
pub mod grpc;
pub mod random;
pub mod server;
pub mod store;
