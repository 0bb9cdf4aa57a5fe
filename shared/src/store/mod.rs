//! Durable state of one account. The interface speaks in domain records and knows nothing of SQLite, so
//! another backend (PostgreSQL) can stand behind it.

mod end_rows;
mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::billing::{AccountBilling, Order};
use crate::domain::model::{RouteEntry, RouterInterface, Vbr, Vpc};

pub use end_rows::same_configuration;
pub use sqlite::SqliteStore;

/// The first answer to a mutating call made with a client token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientTokenRecord {
    /// A hash of the request, to tell a retry from a different call reusing the token.
    pub fingerprint: u64,
    pub outcome: serde_json::Value,
}

/// One change to durable state; a call's changes are committed together or not at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    PutVpc(Vpc),
    DeleteVpc(String),
    PutVbr(Vbr),
    DeleteVbr(String),
    PutRouterInterface(Arc<RouterInterface>),
    /// A router interface whose configuration (every field but its connection's state) is the one put
    /// before: most changes of an end are steps of its connection, and only their state needs writing.
    /// The account's state tells, as it applies a put, by comparing with the end it replaces.
    PutRouterInterfaceState(Arc<RouterInterface>),
    DeleteRouterInterface(String),
    PutRouteEntry(RouteEntry),
    DeleteRouteEntry(String),
    PutClientToken(String, ClientTokenRecord),
    PutAccountBilling(AccountBilling),
    PutOrder(Order),
}

/// Everything an account has, as loaded at start.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub vpcs: Vec<Vpc>,
    pub vbrs: Vec<Vbr>,
    pub router_interfaces: Vec<Arc<RouterInterface>>,
    pub route_entries: Vec<RouteEntry>,
    pub client_tokens: HashMap<String, ClientTokenRecord>,
    /// `None` until the account's balance was first stored.
    pub billing: Option<AccountBilling>,
    /// In the order they were made.
    pub orders: Vec<Order>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    #[error("stored record {id} is unreadable: {source}")]
    Corrupt { id: String, source: serde_json::Error },
    #[error("stored router interface {id} is inconsistent: {why}")]
    Inconsistent { id: String, why: String },
    #[error("the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
}

pub trait Store: Send {
    fn load(&mut self) -> Result<Snapshot, StoreError>;
    /// Writes `changes` atomically and durably (synced to disk) before returning. A
    /// [`Change::PutRouterInterfaceState`] may leave the end's configuration as an earlier put (in this
    /// commit or one before) stored it.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError>;
    /// Flushes and closes; called once at shutdown.
    fn close(&mut self) -> Result<(), StoreError>;
}
