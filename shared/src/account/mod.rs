//! One account's control plane: holds the account's state in memory, applies each call as a pure
//! operation on it, commits the operation's changes durably, and only then makes them visible.

mod paging;
mod peering;
mod router_interfaces;
mod state;
mod vpcs;

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::domain::{DomainError, text};
use crate::store::{Change, ClientTokenRecord, Store, StoreError};

pub use paging::{Page, PageRequest};
pub use router_interfaces::{ModifyAttributes, RouterInterfaceFilter};
pub use state::AccountState;
pub use vpcs::{NewVbr, NewVpc, VpcCreated};

pub use crate::domain::error::DomainResult;

/// Who this service is, and when "now" is.
#[derive(Debug, Clone)]
pub struct Context {
    pub account_id: String,
    pub now: DateTime<Utc>,
}

/// An operation's durable effect and its answer.
pub type Effect<O> = (Vec<Change>, O);

/// One account's control plane. Cheap to clone; all clones share the state.
#[derive(Clone)]
pub struct Account {
    account_id: Arc<str>,
    clock: Arc<dyn Clock>,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    state: AccountState,
    store: Box<dyn Store>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// Loads everything the store holds.
    pub fn open(
        account_id: &str,
        mut store: Box<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let state = AccountState::from_snapshot(store.load()?);
        Ok(Self {
            account_id: account_id.into(),
            clock,
            inner: Arc::new(Mutex::new(Inner { state, store })),
        })
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    fn context(&self) -> Context {
        Context {
            account_id: self.account_id.to_string(),
            now: self.clock.now(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half-applied state: changes are applied to memory
        // only after they were committed, in one step. So a poisoned lock is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers a read from the current state.
    pub fn read<T>(&self, query: impl FnOnce(&AccountState, &Context) -> T) -> T {
        let ctx = self.context();
        query(&self.lock().state, &ctx)
    }

    /// Runs a mutating operation: replays the first answer for a repeated client token, otherwise
    /// computes the changes, commits them durably, applies them, and answers.
    pub fn execute<O>(
        &self,
        operation: &str,
        client_token: &str,
        request: &impl Serialize,
        op: impl FnOnce(&AccountState, &Context) -> DomainResult<Effect<O>>,
    ) -> DomainResult<O>
    where
        O: Serialize + DeserializeOwned,
    {
        text::client_token(client_token)?;
        let ctx = self.context();
        let mut inner = self.lock();
        let token_key = (!client_token.is_empty()).then(|| format!("{operation}/{client_token}"));
        let fingerprint = fingerprint(request);
        if let Some(key) = &token_key {
            if let Some(record) = inner.state.client_token(key) {
                if record.fingerprint != fingerprint {
                    return Err(DomainError::invalid(
                        "client_token",
                        "IdempotentParameterMismatch",
                        format!(
                            "client_token {client_token:?} was already used for a different {operation} request"
                        ),
                    ));
                }
                return serde_json::from_value(record.outcome.clone()).map_err(|e| {
                    DomainError::internal(format!("stored answer for {key} is unreadable: {e}"))
                });
            }
        }
        let (mut changes, outcome) = op(&inner.state, &ctx)?;
        if let Some(key) = token_key {
            let outcome =
                serde_json::to_value(&outcome).map_err(|e| DomainError::internal(e.to_string()))?;
            changes.push(Change::PutClientToken(
                key,
                ClientTokenRecord {
                    fingerprint,
                    outcome,
                },
            ));
        }
        inner.store.commit(&changes).map_err(|e| {
            tracing::error!(error = %e, operation, "commit failed");
            DomainError::new_unavailable(format!(
                "the change could not be stored ({e}); nothing was changed, retry"
            ))
        })?;
        inner.state.apply(changes);
        Ok(outcome)
    }

    /// Closes the store cleanly.
    pub fn close(&self) -> Result<(), StoreError> {
        self.lock().store.close()
    }
}

/// A stable hash of a request (FNV-1a over its JSON form), to recognise a retry.
fn fingerprint(request: &impl Serialize) -> u64 {
    let json = serde_json::to_vec(request).unwrap_or_default();
    json.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
