//! One account's control plane: holds the account's state in memory, applies each call as a pure
//! operation on it, commits the operation's changes durably, and only then makes them visible.

mod billing;
mod paging;
mod peer;
mod peering;
mod router_interfaces;
mod routes;
mod state;
mod vpcs;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use tokio::sync::broadcast;

use crate::admission::{Limits, Slots};
use crate::clock::Clock;
use crate::domain::billing::{AccountBilling, charged};
use crate::domain::model::{ChargeType, RouterInterface};
use crate::domain::prices::PriceTable;
use crate::domain::{DomainError, text};
use crate::store::{Change, ClientTokenRecord, Store, StoreError};

pub use billing::{
    Advanced, Balance, BillingSettings, ClockReading, DEFAULT_INITIAL_BALANCE, MAX_ADVANCE, OrderFilter, Renewal,
    Renewed, SpecChanged,
};
pub use paging::{Page, PageRequest};
pub use peer::{PeerAnswer, PeerReports, connect_request};
pub use router_interfaces::{ModifyAttributes, RouterInterfaceFilter};
pub use routes::{NewRouteEntry, NextHopType, RouteEntryFilter, RouteRow};
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

/// A committed change of a router interface, published after it is durable: for watchers and for the
/// peer link.
#[derive(Debug, Clone)]
pub enum Event {
    Changed(Arc<RouterInterface>),
    /// The end as it was just before it was deleted.
    Deleted(Arc<RouterInterface>),
}

impl Event {
    pub fn router_interface(&self) -> &RouterInterface {
        match self {
            Event::Changed(ri) | Event::Deleted(ri) => ri,
        }
    }
}

/// How many events a slow subscriber may fall behind before it is told it lagged.
const EVENT_BACKLOG: usize = 4096;

/// One account's control plane. Cheap to clone; all clones share the state.
#[derive(Clone)]
pub struct Account {
    account_id: Arc<str>,
    clock: Arc<dyn Clock>,
    prices: Arc<PriceTable>,
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<Event>,
    /// Accounts this service has a peer link to.
    peers: Arc<BTreeSet<String>>,
    inline_calls: bool,
    /// Slots for the public API's calls: past them, a call is turned away at once.
    slots: Slots,
    /// Set when the service begins to shut down: long-lived streams (watches, peer subscriptions) end, so
    /// that a graceful stop can finish its in-flight calls.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

struct Inner {
    state: AccountState,
    store: Box<dyn Store>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("account_id", &self.account_id).finish_non_exhaustive()
    }
}

impl Account {
    /// Loads everything the store holds; a new account starts with the settings' balance.
    pub fn open(
        account_id: &str,
        mut store: Box<dyn Store>,
        clock: Arc<dyn Clock>,
        billing: BillingSettings,
    ) -> Result<Self, StoreError> {
        let mut snapshot = store.load()?;
        if snapshot.billing.is_none() {
            // A new account, or one stored before billing existed: its charged pay-as-you-go ends are
            // charged from now on.
            let initial = AccountBilling { balance: billing.initial_balance, ..AccountBilling::default() };
            let now = clock.now();
            let mut changes = vec![Change::PutAccountBilling(initial.clone())];
            for end in &mut snapshot.router_interfaces {
                if end.charge_type == ChargeType::PostPaid && charged(end) && end.billing.billed_until.is_none() {
                    end.billing.billed_until = Some(now);
                    changes.push(Change::PutRouterInterface(Box::new(end.clone())));
                }
            }
            store.commit(&changes)?;
            snapshot.billing = Some(initial);
        }
        let state = AccountState::from_snapshot(snapshot);
        Ok(Self {
            account_id: account_id.into(),
            clock,
            prices: billing.prices,
            inner: Arc::new(Mutex::new(Inner { state, store })),
            events: broadcast::channel(EVENT_BACKLOG).0,
            peers: Arc::default(),
            inline_calls: false,
            slots: Slots::default(),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    /// Declares the accounts this service can reach over a peer link.
    #[must_use]
    pub fn with_peers(mut self, peers: impl IntoIterator<Item = String>) -> Self {
        self.peers = Arc::new(peers.into_iter().collect());
        self
    }

    pub fn has_peer(&self, account_id: &str) -> bool {
        self.peers.contains(account_id)
    }

    /// Every committed change of a router interface from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Tells long-lived streams to end: the service is shutting down.
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// Completes once the service begins to shut down.
    pub async fn stopping(&self) {
        let mut stopping = self.stopping.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The service's clock: the machine's (or the simulator's) plus the offset AdvanceClock added.
    fn context(&self, state: &AccountState) -> Context {
        let offset = chrono::Duration::seconds(state.billing().clock_offset_seconds);
        let now = self.clock.now();
        Context { account_id: self.account_id.to_string(), now: now.checked_add_signed(offset).unwrap_or(now) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave half-applied state: changes are applied to memory
        // only after they were committed, in one step. So a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers a read from the current state.
    pub fn read<T>(&self, query: impl FnOnce(&AccountState, &Context) -> T) -> T {
        let inner = self.lock();
        let ctx = self.context(&inner.state);
        query(&inner.state, &ctx)
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
        let mut inner = self.lock();
        let ctx = self.context(&inner.state);
        let token_key = (!client_token.is_empty()).then(|| format!("{operation}/{client_token}"));
        let fingerprint = fingerprint(request);
        if let Some(key) = &token_key
            && let Some(record) = inner.state.client_token(key)
        {
            if record.fingerprint != fingerprint {
                return Err(DomainError::invalid(
                    "client_token",
                    "IdempotentParameterMismatch",
                    format!("client_token {client_token:?} was already used for a different {operation} request"),
                ));
            }
            return serde_json::from_value(record.outcome.clone())
                .map_err(|e| DomainError::internal(format!("stored answer for {key} is unreadable: {e}")));
        }
        let (mut changes, outcome) = op(&inner.state, &ctx)?;
        if let Some(key) = token_key {
            let outcome = serde_json::to_value(&outcome).map_err(|e| DomainError::internal(e.to_string()))?;
            changes.push(Change::PutClientToken(key, ClientTokenRecord { fingerprint, outcome }));
        }
        inner.store.commit(&changes).map_err(|e| {
            tracing::error!(error = %e, operation, "commit failed");
            DomainError::new_unavailable(format!("the change could not be stored ({e}); nothing was changed, retry"))
        })?;
        let events = events_of(&inner.state, &changes);
        inner.state.apply(changes);
        // Published under the lock, so subscribers see changes in commit order. No subscriber is fine.
        for event in events {
            let _ = self.events.send(event);
        }
        drop(inner);
        Ok(outcome)
    }

    /// Closes the store cleanly.
    pub fn close(&self) -> Result<(), StoreError> {
        self.lock().store.close()
    }
}

/// The events a batch of changes makes, read before the batch is applied (a deleted end is still there).
fn events_of(state: &AccountState, changes: &[Change]) -> Vec<Event> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::PutRouterInterface(ri) => Some(Event::Changed(Arc::new(ri.as_ref().clone()))),
            Change::DeleteRouterInterface(id) => {
                state.router_interface("router_interface_id", id).ok().map(|ri| Event::Deleted(Arc::new(ri.clone())))
            }
            _ => None,
        })
        .collect()
}

/// A stable hash of a request (FNV-1a over its JSON form), to recognise a retry.
fn fingerprint(request: &impl Serialize) -> u64 {
    let json = serde_json::to_vec(request).unwrap_or_default();
    json.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

impl Account {
    /// Runs an account call off the async runtime: it may wait for the disk.
    pub async fn call<T, F>(&self, call: F) -> DomainResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
    {
        if self.inline_calls {
            return call(self);
        }
        let account = self.clone();
        tokio::task::spawn_blocking(move || call(&account))
            .await
            .map_err(|e| DomainError::internal(format!("the call failed: {e}")))?
    }

    /// Limits how many public calls may use the account at once.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.slots = Slots::new(limits);
        self
    }

    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Runs calls on the caller's task instead of the blocking pool: a deterministic simulator needs every
    /// step on its own scheduler.
    #[must_use]
    pub fn with_inline_calls(mut self) -> Self {
        self.inline_calls = true;
        self
    }
}
