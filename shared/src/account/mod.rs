//! One account's control plane: holds the account's state in memory, applies each call as a pure
//! operation on it, commits the operation's changes durably, and answers (or publishes) nothing before
//! they are on disk.
//!
//! Group commit: a call applies its changes to memory under the state lock and queues them; what is
//! queued is committed in one transaction (one fsync; about 25,000 changes at most, so that the effects of
//! a large burst go out in steps) while new calls keep applying. A call on the async runtime
//! ([`Account::call`]) leaves the commit to a round on the blocking pool and awaits it (`waiting`); a
//! call made directly commits the queue itself when no other call is. Every answer, reads included, waits
//! until what it saw is on disk, so no caller and no peer ever sees a change a crash could take back.

mod billing;
mod feed;
mod paging;
mod peer;
mod peering;
mod router_interfaces;
mod routes;
mod sent;
mod state;
mod vpcs;
mod waiting;

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
use crate::metrics::Metrics;
use crate::store::{Change, ClientTokenRecord, Store, StoreError};

pub use billing::{
    Advanced, Balance, BillingSettings, ClockReading, DEFAULT_INITIAL_BALANCE, MAX_ADVANCE, OrderFilter, Renewal,
    Renewed, SpecChanged,
};
pub use feed::ChangeFeed;
pub use paging::{Page, PageRequest};
pub use peer::{PeerAnswer, PeerReports, concerns, connect_request};
pub use router_interfaces::{ModifyAttributes, RouterInterfaceFilter};
pub use routes::{NewRouteEntry, NextHopType, RouteEntryFilter, RouteRow};
pub use sent::SentVersions;
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

    /// Whether this is a change of its end older than version `seen`, read after subscribing: announced once
    /// on disk, such a change can reach the subscriber after that read. Same version: not older, as a peer's
    /// report may change what an end knows of the other end without a new version. A deletion is never older.
    pub fn predates(&self, seen: u64) -> bool {
        matches!(self, Event::Changed(ri) if ri.version < seen)
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
    /// Held by whoever is committing the queue: a call, or a round of commits.
    store: Arc<Mutex<Box<dyn Store>>>,
    /// Told after each commit and rollback, for calls that wait on the async runtime.
    committed: Arc<tokio::sync::watch::Sender<()>>,
    /// Whether a round of commits runs on the blocking pool for such calls.
    committing: Arc<std::sync::atomic::AtomicBool>,
    /// Set only on the handle a call's closure gets from [`Account::call`] (or a query from
    /// [`Account::read_on_runtime`]).
    deferral: waiting::Deferral,
    events: broadcast::Sender<Event>,
    /// Each live [`ChangeFeed`]'s inbox, which every commit's events go into (a broadcast ring would
    /// overflow on a commit of more events than it holds).
    feeds: Arc<Mutex<Vec<std::sync::Weak<feed::Inbox>>>>,
    /// Accounts this service has a peer link to.
    peers: Arc<BTreeSet<String>>,
    inline_calls: bool,
    /// Slots for the public API's calls: past them, a call is turned away at once.
    slots: Slots,
    metrics: Arc<Metrics>,
    /// Set when the service begins to shut down: long-lived streams (watches, peer subscriptions) end, so
    /// that a graceful stop can finish its in-flight calls.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

struct Inner {
    /// Everything applied, durable or not.
    state: AccountState,
    /// Sequence numbers of the last change applied to `state` and of the last one on disk.
    applied: u64,
    durable: u64,
    /// Applied but not yet on disk, oldest first: changes `durable + 1 ..= applied`.
    queued: Vec<Queued>,
    /// Bumped when a commit fails and memory goes back to what is on disk: answers computed before that saw
    /// changes not on disk then are void.
    epoch: u64,
    /// The last change on disk when each past epoch ended, by epoch.
    epoch_ends: Vec<u64>,
}

/// One call's changes waiting for the disk, and the events they publish once there.
struct Queued {
    changes: Vec<Change>,
    events: Vec<Event>,
}

/// Where an answer was computed: it may be given once change `applied` is on disk, unless `epoch` ended.
#[derive(Debug, Clone, Copy)]
struct Seen {
    applied: u64,
    epoch: u64,
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
                    Arc::make_mut(end).billing.billed_until = Some(now);
                    changes.push(Change::PutRouterInterface(Arc::clone(end)));
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
            inner: Arc::new(Mutex::new(Inner {
                state,
                applied: 0,
                durable: 0,
                queued: Vec::new(),
                epoch: 0,
                epoch_ends: Vec::new(),
            })),
            store: Arc::new(Mutex::new(store)),
            committed: Arc::new(tokio::sync::watch::channel(()).0),
            committing: Arc::default(),
            deferral: waiting::Deferral::default(),
            events: broadcast::channel(EVENT_BACKLOG).0,
            peers: Arc::default(),
            inline_calls: false,
            slots: Slots::default(),
            metrics: Arc::default(),
            feeds: Arc::default(),
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

    /// An inbox that every commit's events go into from now on, for a [`ChangeFeed`].
    fn feed(&self) -> Arc<feed::Inbox> {
        let inbox = Arc::new(feed::Inbox::default());
        self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Arc::downgrade(&inbox));
        inbox
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
        // A panic while holding the lock cannot leave half-applied state: a call's changes are applied to
        // memory together, by code that does not fail on them. So a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers a read from the current state, once everything it saw is on disk. On a handle that defers
    /// (inside [`Account::call`] or [`Account::read_on_runtime`]) it notes what it saw and answers at once,
    /// the wait being theirs; on any other it blocks its thread until then.
    pub fn read<T>(&self, query: impl Fn(&AccountState, &Context) -> T) -> T {
        loop {
            let (answer, seen, deferred) = {
                let inner = self.lock();
                let ctx = self.context(&inner.state);
                (query(&inner.state, &ctx), seen(&inner), self.deferral.note(&inner))
            };
            // A failed commit rolled back what the answer saw: ask again (a call that defers its wait
            // learns it at its end, and fails, as its closure cannot run twice; a deferred read is asked
            // again by `read_on_runtime`).
            if deferred || self.until_durable(seen).is_ok() {
                return answer;
            }
        }
    }

    /// Runs a mutating operation: replays the first answer for a repeated client token, otherwise
    /// computes the changes, applies them, and answers once they are committed durably.
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
        if self.deferral.voided(&inner) {
            // An earlier answer of this call saw changes a failed commit took back: it changes nothing more.
            return Err(voided_by_a_failed_commit());
        }
        let ctx = self.context(&inner.state);
        let token_key = (!client_token.is_empty()).then(|| format!("{operation}/{client_token}"));
        let fingerprint = fingerprint(request);
        if let Some(key) = &token_key
            && let Some(record) = inner.state.client_token(key)
        {
            let answer = if record.fingerprint == fingerprint {
                serde_json::from_value(record.outcome.clone())
                    .map_err(|e| DomainError::internal(format!("stored answer for {key} is unreadable: {e}")))
            } else {
                Err(DomainError::invalid(
                    "client_token",
                    "IdempotentParameterMismatch",
                    format!("client_token {client_token:?} was already used for a different {operation} request"),
                ))
            };
            return self.answer_when_durable(inner, answer);
        }
        let (mut changes, outcome) = match op(&inner.state, &ctx) {
            Ok(effect) => effect,
            // A refusal may rest on changes still on their way to the disk.
            Err(refusal) => return self.answer_when_durable(inner, Err(refusal)),
        };
        if let Some(key) = token_key {
            let outcome = serde_json::to_value(&outcome).map_err(|e| DomainError::internal(e.to_string()))?;
            changes.push(Change::PutClientToken(key, ClientTokenRecord { fingerprint, outcome }));
        }
        if !changes.is_empty() {
            let events = events_of(&inner.state, &changes);
            inner.state.apply(&mut changes);
            inner.applied += 1;
            inner.queued.push(Queued { changes, events });
        }
        self.answer_when_durable(inner, Ok(outcome))
    }

    /// Gives `answer`, computed from `inner`, once what it saw is on disk.
    fn answer_when_durable<T>(&self, inner: MutexGuard<'_, Inner>, answer: DomainResult<T>) -> DomainResult<T> {
        let seen = seen(&inner);
        let deferred = self.deferral.note(&inner);
        drop(inner);
        if !deferred {
            self.until_durable(seen)?;
        }
        answer
    }

    /// Waits until change `seen.applied` is on disk, committing the queue itself when no other call is.
    /// Fails when a failed commit voided what was seen.
    fn until_durable(&self, seen: Seen) -> DomainResult<()> {
        loop {
            if let Some(settled) = self.lock().settled(seen) {
                return settled;
            }
            let mut store = self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // While this call waited for the store, another may have committed its changes.
            if let Some(settled) = self.lock().settled(seen) {
                return settled;
            }
            self.commit_next(store.as_mut())?;
        }
    }

    /// Commits the next batch of the queue, if any, with the store held, and publishes its events. After a
    /// failure, memory is back to what is on disk and the queue is void.
    fn commit_next(&self, store: &mut dyn Store) -> DomainResult<()> {
        let (batch, last) = self.lock().next_commit();
        if batch.is_empty() {
            return Ok(());
        }
        let mut changes = Vec::new();
        let mut events = Vec::new();
        for queued in batch {
            changes.extend(queued.changes);
            events.extend(queued.events);
        }
        let started = std::time::Instant::now();
        // A panic while writing is a failed commit: the batch has left the queue, so a panic that went on
        // unwinding would let a later commit acknowledge it, never written.
        let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.commit(&changes)))
            .unwrap_or_else(|_| Err(StoreError::Backend("the commit panicked".into())));
        tracing::debug!(changes = changes.len(), took_ms = started.elapsed().as_secs_f64() * 1000.0, "commit");
        if let Err(e) = committed {
            tracing::error!(error = %e, "commit failed; going back to what is on disk");
            self.roll_back(&mut self.lock(), store);
            return Err(not_stored(&e.to_string()));
        }
        // Published in commit order (one committer at a time), before any answer that waited for them is
        // given. No subscriber is fine.
        if !events.is_empty() {
            let mut feeds = self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // A feed that was dropped is forgotten here.
            feeds.retain(|feed| feed.upgrade().map(|inbox| inbox.put(&events)).is_some());
        }
        for event in events {
            let _ = self.events.send(event);
        }
        self.lock().durable = last;
        self.committed.send_replace(());
        Ok(())
    }

    /// After a failed commit: memory goes back to what the disk holds, and every queued change is void.
    fn roll_back(&self, inner: &mut Inner, store: &mut dyn Store) {
        match store.load() {
            Ok(snapshot) => inner.state = AccountState::from_snapshot(snapshot),
            Err(e) => {
                // Memory now holds changes the disk does not, and nothing can tell which: stop, so that a
                // restart loads what is on disk (as databases do when a sync fails).
                tracing::error!(error = %e, "the store cannot be read back after a failed commit; stopping");
                std::process::abort();
            }
        }
        inner.queued.clear();
        inner.epoch_ends.push(inner.durable);
        inner.durable = inner.applied;
        inner.epoch += 1;
        self.committed.send_replace(());
    }

    /// Closes the store cleanly.
    pub fn close(&self) -> Result<(), StoreError> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner).close()
    }
}

/// A commit takes the queued calls' changes up to about so many (a call's all together): when many queue
/// at once (a peer's resync of thousands of ends, in deliveries in flight together), their effects go
/// out commit by commit, and the peer's next steps begin while the rest are being written, instead of
/// after one commit of everything.
const COMMIT_CHANGES: usize = 25_000;

impl Inner {
    /// The calls the next commit writes, oldest first, and the sequence number of the last one's changes.
    fn next_commit(&mut self) -> (Vec<Queued>, u64) {
        let mut changes = 0;
        let taken = self
            .queued
            .iter()
            .take_while(|queued| {
                let first = changes == 0;
                changes += queued.changes.len();
                first || changes <= COMMIT_CHANGES
            })
            .count();
        let batch: Vec<Queued> = self.queued.drain(..taken).collect();
        // The queue holds changes `durable + 1 ..= applied`, one number per call.
        (batch, self.durable + taken as u64)
    }

    /// Whether `seen` is settled: on disk (`Ok`), or voided by a failed commit (`Err`).
    fn settled(&self, seen: Seen) -> Option<DomainResult<()>> {
        if seen.epoch == self.epoch {
            return (self.durable >= seen.applied).then_some(Ok(()));
        }
        // A failed commit ended that epoch: what was on disk then stays; the rest went back.
        let on_disk_then = self.epoch_ends.get(seen.epoch as usize).copied().unwrap_or_default();
        Some(if seen.applied <= on_disk_then { Ok(()) } else { Err(voided_by_a_failed_commit()) })
    }
}

fn seen(inner: &Inner) -> Seen {
    Seen { applied: inner.applied, epoch: inner.epoch }
}

fn not_stored(why: &str) -> DomainError {
    DomainError::new_unavailable(format!("the change could not be stored ({why}); nothing was changed, retry"))
}

fn voided_by_a_failed_commit() -> DomainError {
    not_stored("an earlier change failed to commit")
}

/// The events a batch of changes makes, read before the batch is applied (a deleted end is still there).
fn events_of(state: &AccountState, changes: &[Change]) -> Vec<Event> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::PutRouterInterface(ri) | Change::PutRouterInterfaceState(ri) => {
                Some(Event::Changed(Arc::clone(ri)))
            }
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
    /// Limits how many public calls may use the account at once.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.slots = Slots::new(limits);
        self
    }

    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs calls, commits included, on the caller's task, each waiting for the disk itself: a deterministic
    /// simulator needs every step on its own scheduler.
    #[must_use]
    pub fn with_inline_calls(mut self) -> Self {
        self.inline_calls = true;
        self
    }
}

#[cfg(test)]
mod group_commit_tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::clock::SystemClock;
    use crate::domain::ErrorKind;
    use crate::store::{Snapshot, SqliteStore};

    /// Closed: the next commit says it arrived, then waits to hear whether the disk succeeds.
    type Gate = Arc<Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<bool>)>>>;

    /// The real store, with a gate a test can close on the next commit: the commit then waits to be told
    /// whether the disk succeeds.
    struct GatedStore {
        store: SqliteStore,
        commits: Arc<AtomicUsize>,
        gate: Gate,
        /// The next commit panics.
        panics: Arc<AtomicBool>,
    }

    impl Store for GatedStore {
        fn load(&mut self) -> Result<Snapshot, StoreError> {
            self.store.load()
        }
        fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
            self.commits.fetch_add(1, Ordering::SeqCst);
            assert!(!self.panics.swap(false, Ordering::SeqCst), "a bug in the store");
            let gate = self.gate.lock().unwrap().take();
            if let Some((entered, outcome)) = gate {
                entered.send(()).unwrap();
                if !outcome.recv().unwrap() {
                    return Err(StoreError::Backend("disk full".into()));
                }
            }
            self.store.commit(changes)
        }
        fn close(&mut self) -> Result<(), StoreError> {
            self.store.close()
        }
    }

    struct Fixture {
        account: Account,
        commits: Arc<AtomicUsize>,
        gate: Gate,
        panics: Arc<AtomicBool>,
    }

    impl Fixture {
        fn new() -> Self {
            let commits = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new(Mutex::new(None));
            let panics = Arc::new(AtomicBool::new(false));
            let store = GatedStore {
                store: SqliteStore::in_memory().unwrap(),
                commits: commits.clone(),
                gate: gate.clone(),
                panics: panics.clone(),
            };
            let account =
                Account::open("1000000000000001", Box::new(store), Arc::new(SystemClock), BillingSettings::default())
                    .unwrap();
            Self { account, commits, gate, panics }
        }

        /// Closes the gate; returns a receiver told when a commit reaches it and a sender to open it.
        fn close_gate(&self) -> (mpsc::Receiver<()>, mpsc::Sender<bool>) {
            let (entered_tx, entered_rx) = mpsc::channel();
            let (outcome_tx, outcome_rx) = mpsc::channel();
            *self.gate.lock().unwrap() = Some((entered_tx, outcome_rx));
            (entered_rx, outcome_tx)
        }

        /// Creates a VPC on another thread; its answer arrives on the returned receiver.
        fn create_vpc(&self, n: u8) -> mpsc::Receiver<DomainResult<VpcCreated>> {
            let (tx, rx) = mpsc::channel();
            let account = self.account.clone();
            std::thread::spawn(move || tx.send(account.create_vpc(new_vpc(n), "")).unwrap());
            rx
        }

        /// Creates a VPC in a task on `runtime`, as the services' calls run.
        fn create_vpc_on(
            &self,
            runtime: &tokio::runtime::Runtime,
            n: u8,
        ) -> tokio::task::JoinHandle<DomainResult<VpcCreated>> {
            let account = self.account.clone();
            runtime.spawn(async move { account.call(move |a| a.create_vpc(new_vpc(n), "")).await })
        }

        /// Creates VPC `n` in a task on `runtime` with the gate closed; returns once its commit waits at the
        /// gate, with the sender that opens it.
        fn create_vpc_at_the_gate(
            &self,
            runtime: &tokio::runtime::Runtime,
            n: u8,
        ) -> (tokio::task::JoinHandle<DomainResult<VpcCreated>>, mpsc::Sender<bool>) {
            let (entered, open) = self.close_gate();
            let call = self.create_vpc_on(runtime, n);
            entered.recv_timeout(Duration::from_secs(10)).expect("no call reached the disk");
            (call, open)
        }

        fn vpc_count(&self) -> usize {
            vpc_count(&self.account)
        }

        /// Waits until `n` calls have applied their changes and queued them.
        fn wait_queued(&self, n: usize) {
            while self.account.lock().queued.len() < n {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    fn new_vpc(n: u8) -> NewVpc {
        NewVpc { region_id: "cn-hangzhou".into(), cidr_block: format!("10.{n}.0.0/16"), ..NewVpc::default() }
    }

    fn runtime() -> tokio::runtime::Runtime {
        runtime_of(2)
    }

    fn runtime_of(workers: usize) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
    }

    fn vpc_count(account: &Account) -> usize {
        account.describe_vpcs("", &[], PageRequest::new(1, 50).unwrap()).unwrap().total_count
    }

    #[test]
    fn calls_that_arrive_during_a_commit_share_the_next_one_and_nothing_is_seen_before_it_is_on_disk() {
        let f = Fixture::new();
        let before = f.commits.load(Ordering::SeqCst);
        let (entered, open) = f.close_gate();
        let first = f.create_vpc(1);
        entered.recv().unwrap();
        let others: Vec<_> = (2..=4).map(|n| f.create_vpc(n)).collect();
        f.wait_queued(3);
        // A read now would see changes that are not on disk yet: it waits.
        let (count_tx, count_rx) = mpsc::channel();
        let reader = f.account.clone();
        std::thread::spawn(move || count_tx.send(vpc_count(&reader)).unwrap());
        assert!(count_rx.recv_timeout(Duration::from_millis(100)).is_err(), "a read answered before the disk");
        assert!(first.try_recv().is_err() && others.iter().all(|o| o.try_recv().is_err()));
        open.send(true).unwrap();
        first.recv().unwrap().unwrap();
        for other in others {
            other.recv().unwrap().unwrap();
        }
        assert_eq!(count_rx.recv().unwrap(), 4);
        assert_eq!(f.commits.load(Ordering::SeqCst) - before, 2, "the three queued calls share one commit");
    }

    #[test]
    fn a_commit_takes_whole_calls_up_to_its_size_and_at_least_one() {
        let queued = |n: usize| Queued { changes: vec![Change::DeleteVpc("vpc-a".into()); n], events: Vec::new() };
        let sizes = [COMMIT_CHANGES / 3, COMMIT_CHANGES / 3, COMMIT_CHANGES / 2, COMMIT_CHANGES * 2, 1];
        let mut inner = Inner {
            state: AccountState::default(),
            applied: 5 + sizes.len() as u64,
            durable: 5,
            queued: sizes.iter().map(|n| queued(*n)).collect(),
            epoch: 0,
            epoch_ends: Vec::new(),
        };
        let mut commits = Vec::new();
        while !inner.queued.is_empty() {
            let (batch, last) = inner.next_commit();
            inner.durable = last;
            commits.push((batch.iter().map(|q| q.changes.len()).collect::<Vec<_>>(), last));
        }
        let (third, half, twice) = (COMMIT_CHANGES / 3, COMMIT_CHANGES / 2, COMMIT_CHANGES * 2);
        assert_eq!(commits, vec![(vec![third, third], 7), (vec![half], 8), (vec![twice], 9), (vec![1], 10)]);
    }

    #[test]
    fn after_a_failed_commit_what_was_on_disk_before_it_stays_settled_and_the_rest_is_void() {
        // Changes 1-3 reached the disk, 4-5 went back with the failed commit that ended epoch 0.
        let inner = Inner {
            state: AccountState::default(),
            applied: 6,
            durable: 5,
            queued: Vec::new(),
            epoch: 1,
            epoch_ends: vec![3],
        };
        let settled = |applied, epoch| inner.settled(Seen { applied, epoch }).map(|s| s.is_ok());
        assert_eq!(settled(3, 0), Some(true), "on disk before the failure");
        assert_eq!(settled(4, 0), Some(false), "went back");
        assert_eq!(settled(5, 1), Some(true));
        assert_eq!(settled(6, 1), None, "not on disk yet");
    }

    #[test]
    fn a_failed_commit_voids_it_and_every_change_queued_behind_it_and_memory_goes_back_to_the_disk() {
        let f = Fixture::new();
        f.create_vpc(1).recv().unwrap().unwrap();
        let (entered, open) = f.close_gate();
        let failing = f.create_vpc(2);
        entered.recv().unwrap();
        let behind = f.create_vpc(3);
        f.wait_queued(1);
        open.send(false).unwrap();
        for answer in [failing.recv().unwrap(), behind.recv().unwrap()] {
            let refusal = answer.unwrap_err();
            assert_eq!(refusal.kind, ErrorKind::Unavailable, "{refusal:?}");
            assert!(refusal.message.contains("nothing was changed"), "{}", refusal.message);
        }
        assert_eq!(f.vpc_count(), 1, "only the VPC that reached the disk remains");
        f.create_vpc(4).recv().unwrap().unwrap();
        assert_eq!(f.vpc_count(), 2);
    }

    #[test]
    fn calls_on_the_runtime_share_a_commit_and_none_answers_before_it_is_on_disk() {
        let f = Fixture::new();
        let runtime = runtime();
        let before = f.commits.load(Ordering::SeqCst);
        let (first, open) = f.create_vpc_at_the_gate(&runtime, 1);
        let others: Vec<_> = (2..=4).map(|n| f.create_vpc_on(&runtime, n)).collect();
        f.wait_queued(3);
        let reader = f.account.clone();
        let count = runtime.spawn(async move { reader.call(|a| Ok(vpc_count(a))).await });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!first.is_finished(), "a call answered before the disk");
        assert!(others.iter().all(|o| !o.is_finished()) && !count.is_finished(), "an answer came before the disk");
        open.send(true).unwrap();
        runtime.block_on(async {
            first.await.unwrap().unwrap();
            for other in others {
                other.await.unwrap().unwrap();
            }
            assert_eq!(count.await.unwrap().unwrap(), 4);
        });
        assert_eq!(f.commits.load(Ordering::SeqCst) - before, 2, "the three queued calls share one commit");
    }

    #[test]
    fn a_failed_commit_voids_the_calls_on_the_runtime_that_wait_for_it() {
        let f = Fixture::new();
        let runtime = runtime();
        runtime.block_on(f.create_vpc_on(&runtime, 1)).unwrap().unwrap();
        let (failing, open) = f.create_vpc_at_the_gate(&runtime, 2);
        let behind = f.create_vpc_on(&runtime, 3);
        f.wait_queued(1);
        open.send(false).unwrap();
        for answer in [runtime.block_on(failing).unwrap(), runtime.block_on(behind).unwrap()] {
            let refusal = answer.unwrap_err();
            assert_eq!(refusal.kind, ErrorKind::Unavailable, "{refusal:?}");
        }
        assert_eq!(f.vpc_count(), 1, "only the VPC that reached the disk remains");
        runtime.block_on(f.create_vpc_on(&runtime, 4)).unwrap().unwrap();
        assert_eq!(f.vpc_count(), 2);
    }

    #[test]
    fn a_commit_that_panics_fails_like_one_the_disk_refused_and_acknowledges_nothing() {
        let f = Fixture::new();
        let runtime = runtime();
        runtime.block_on(f.create_vpc_on(&runtime, 1)).unwrap().unwrap();
        f.panics.store(true, Ordering::SeqCst);
        let on_the_runtime = f.create_vpc_on(&runtime, 2);
        let answer = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), on_the_runtime).await });
        let refusal = answer.expect("the call waited for a commit that panicked").unwrap().unwrap_err();
        assert_eq!(refusal.kind, ErrorKind::Unavailable, "{refusal:?}");
        f.panics.store(true, Ordering::SeqCst);
        let committing_itself = f.create_vpc(3).recv().expect("the call's thread panicked");
        assert_eq!(committing_itself.unwrap_err().kind, ErrorKind::Unavailable);
        assert_eq!(f.vpc_count(), 1, "neither VPC is kept, in memory or on disk");
        runtime.block_on(f.create_vpc_on(&runtime, 4)).unwrap().unwrap();
        assert_eq!(f.vpc_count(), 2);
    }

    #[test]
    fn a_read_on_the_runtime_waits_for_the_disk_without_holding_the_worker() {
        let f = Fixture::new();
        let runtime = runtime_of(1);
        let (first, open) = f.create_vpc_at_the_gate(&runtime, 1);
        let second = f.create_vpc_on(&runtime, 2);
        f.wait_queued(1);
        // It sees both VPCs, neither on disk yet.
        let reader = f.account.clone();
        let count = runtime.spawn(async move { reader.read_on_runtime(vpc_count).await });
        std::thread::sleep(Duration::from_millis(50));
        let (ran_tx, ran) = mpsc::channel();
        runtime.spawn(async move { ran_tx.send(()).unwrap() });
        let other_ran = ran.recv_timeout(Duration::from_secs(10)).is_ok();
        let count_answered = count.is_finished();
        open.send(true).unwrap();
        assert!(other_ran, "the read held the only worker while it waited for the disk");
        assert!(!count_answered, "the read answered before the disk");
        runtime.block_on(async {
            first.await.unwrap().unwrap();
            second.await.unwrap().unwrap();
            assert_eq!(count.await.unwrap(), 2);
        });
    }

    #[test]
    fn a_read_on_the_runtime_that_saw_what_a_failed_commit_took_back_asks_again() {
        let f = Fixture::new();
        let runtime = runtime();
        runtime.block_on(f.create_vpc_on(&runtime, 1)).unwrap().unwrap();
        let (failing, open) = f.create_vpc_at_the_gate(&runtime, 2);
        let reader = f.account.clone();
        let count = runtime.spawn(async move { reader.read_on_runtime(vpc_count).await });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!count.is_finished(), "the read answered before the disk");
        open.send(false).unwrap();
        runtime.block_on(failing).unwrap().unwrap_err();
        assert_eq!(runtime.block_on(count).unwrap(), 1, "the answer is what the disk holds");
    }

    #[test]
    fn a_copy_of_a_calls_handle_waits_for_the_disk_itself() {
        let f = Fixture::new();
        let runtime = runtime();
        let (entered, open) = f.close_gate();
        let account = f.account.clone();
        let (answered_tx, answered) = mpsc::channel();
        let call = runtime.spawn(async move {
            account
                .call(move |a| {
                    let copy = a.clone();
                    let created = copy.create_vpc(new_vpc(1), "");
                    answered_tx.send(()).unwrap();
                    created
                })
                .await
        });
        entered.recv_timeout(Duration::from_secs(10)).expect("no call reached the disk");
        assert!(answered.recv_timeout(Duration::from_millis(100)).is_err(), "the copy answered before the disk");
        open.send(true).unwrap();
        runtime.block_on(call).unwrap().unwrap();
        assert_eq!(f.vpc_count(), 1);
    }

    /// An initiator end in `account` towards account 1000000000000002, Idle.
    fn initiator_end(account: &Account) -> String {
        use crate::domain::model::{Role, RouterType};
        use crate::domain::rules::NewRouterInterface;

        let vrouter = account.create_vpc(new_vpc(1), "").unwrap().vrouter_id;
        let initiator = NewRouterInterface {
            region_id: "cn-hangzhou".into(),
            role: Some(Role::InitiatingSide),
            router_type: Some(RouterType::VRouter),
            router_id: vrouter,
            spec: "Large.1".into(),
            opposite_region_id: "cn-shanghai".into(),
            opposite_router_type: Some(RouterType::VRouter),
            opposite_router_id: "vrt-peer".into(),
            opposite_interface_id: "ri-peer".into(),
            opposite_interface_owner_id: "1000000000000002".into(),
            ..NewRouterInterface::default()
        };
        account.create_router_interface(initiator, "").unwrap()
    }

    /// Renames the end `id` in a task on `runtime`.
    fn rename_on(
        account: &Account,
        runtime: &tokio::runtime::Runtime,
        id: &str,
        name: &str,
    ) -> tokio::task::JoinHandle<DomainResult<()>> {
        let (account, rename) = (
            account.clone(),
            ModifyAttributes { router_interface_id: id.into(), name: Some(name.into()), ..Default::default() },
        );
        runtime.spawn(async move { account.call(move |a| a.modify_router_interface_attribute(rename, "")).await })
    }

    #[test]
    fn a_settling_call_takes_no_older_change_of_its_end_for_its_answer() {
        use crate::domain::model::Status;

        let f = Fixture::new();
        let account = f.account.clone().with_peers(["1000000000000002".to_owned()]);
        let runtime = runtime();
        let id = initiator_end(&account);
        // A change of the end made before the call (a rename: the end stays Idle) is on its way to the disk,
        // announced to nobody yet, when the call subscribes and connects.
        let (entered, open) = f.close_gate();
        let renamed = rename_on(&account, &runtime, &id, "renamed");
        entered.recv_timeout(Duration::from_secs(10)).expect("the rename did not reach the disk");
        let events = account.subscribe();
        let (connecting, connected_id) = (account.clone(), id.clone());
        let connected =
            runtime.spawn(async move { connecting.call(move |a| a.connect_router_interface(&connected_id, "")).await });
        f.wait_queued(1);
        open.send(true).unwrap();
        runtime.block_on(renamed).unwrap().unwrap();
        assert_eq!(runtime.block_on(connected).unwrap().unwrap(), Status::Connecting);
        // The rename's event (Idle) comes first; the acceptor never answers, so the end is still Connecting.
        let answer = runtime.block_on(account.settle(&id, events, Duration::from_millis(200)));
        assert_eq!(answer.unwrap(), Status::Connecting, "the answer is the status before the call");
    }

    #[test]
    fn an_event_older_than_what_a_read_after_subscribing_saw_is_told_apart() {
        let f = Fixture::new();
        let runtime = runtime();
        let id = initiator_end(&f.account);
        // Two renames on their way to the disk, announced to nobody yet, when a watcher subscribes and reads
        // the end (as WatchRouterInterfaces with include_current does).
        let (entered, open) = f.close_gate();
        let first = rename_on(&f.account, &runtime, &id, "first");
        entered.recv_timeout(Duration::from_secs(10)).expect("the rename did not reach the disk");
        let second = rename_on(&f.account, &runtime, &id, "second");
        f.wait_queued(1);
        let mut events = f.account.subscribe();
        let (reader, read_id) = (f.account.clone(), id.clone());
        let read =
            runtime.spawn(async move { reader.read_on_runtime(move |a| a.describe_router_interface(&read_id)).await });
        open.send(true).unwrap();
        runtime.block_on(first).unwrap().unwrap();
        runtime.block_on(second).unwrap().unwrap();
        let read = runtime.block_on(read).unwrap().unwrap();
        assert_eq!(read.name, "second");
        // Both renames are announced after the read: the first is older than what it showed.
        let older = events.try_recv().unwrap();
        assert_eq!(older.router_interface().name, "first");
        assert!(older.predates(read.version), "the first rename would take the watcher back");
        let same = events.try_recv().unwrap();
        assert_eq!(same.router_interface().name, "second");
        assert!(!same.predates(read.version), "the change the read showed is not older than itself");
    }
}
