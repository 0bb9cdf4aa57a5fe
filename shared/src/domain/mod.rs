//! The domain: resources of one account and the rules of the seed and the real API, as pure code.

pub mod billing;
pub mod catalog;
pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod model;
pub mod prices;
pub mod reachability;
pub mod rules;
pub mod text;

pub use error::{DomainError, DomainResult, ErrorKind};
