//! How a call on the async runtime waits for the disk without holding a thread: its closure runs on the
//! caller's task with a handle that notes what each answer saw instead of blocking, then the task awaits
//! the publication of what is on disk, while one round of commits on the blocking pool writes the queue
//! for every call that waits so. A call thus costs no hop to another thread and back, and calls that
//! queue during a commit do not line up on the store's lock to find their changes already written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Account, DomainResult, Inner, Seen, seen};
use crate::domain::DomainError;

/// The latest state a call's answers saw, on the handle [`Account::call`] gives its closure (and
/// [`Account::read_on_runtime`] its query). A clone of that handle notes nothing: whatever it answers waits
/// for the disk itself, so that nothing it says can escape before the disk holds it.
#[derive(Debug, Default)]
pub(super) struct Deferral(Option<Arc<Mutex<Option<Seen>>>>);

impl Clone for Deferral {
    fn clone(&self) -> Self {
        Self(None)
    }
}

impl Deferral {
    /// Notes that an answer was computed from `inner`, if this handle defers; false when the caller must
    /// wait for the disk itself.
    pub(super) fn note(&self, inner: &Inner) -> bool {
        let Some(noted) = &self.0 else { return false };
        let mut noted = noted.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = seen(inner);
        *noted = Some(match *noted {
            // Within an epoch, the latest covers the rest.
            Some(earlier) if earlier.epoch == seen.epoch => Seen { applied: earlier.applied.max(seen.applied), ..seen },
            // An answer from an epoch a failed commit ended is settled: kept if void (so is the call).
            Some(earlier) if voided(earlier, inner) => earlier,
            _ => seen,
        });
        true
    }

    /// Whether an earlier answer of the call saw changes a failed commit took back.
    pub(super) fn voided(&self, inner: &Inner) -> bool {
        self.0.as_ref().is_some_and(|noted| {
            noted.lock().unwrap_or_else(PoisonError::into_inner).is_some_and(|earlier| voided(earlier, inner))
        })
    }

    fn taken(&self) -> Option<Seen> {
        self.0.as_ref().and_then(|noted| noted.lock().unwrap_or_else(PoisonError::into_inner).take())
    }
}

fn voided(seen: Seen, inner: &Inner) -> bool {
    matches!(inner.settled(seen), Some(Err(_)))
}

impl Account {
    /// Runs an account call: on the caller's task, answering once what the call saw is on disk.
    pub async fn call<T, F>(&self, call: F) -> DomainResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
    {
        if self.inline_calls {
            return call(self);
        }
        let deferring = self.deferring();
        // A panic is a bug; it ends this call with an error rather than the connection that carried it.
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&deferring)))
            .unwrap_or_else(|_| Err(DomainError::internal("the call failed: it panicked")));
        // A void answer's wait fails at once.
        if let Some(seen) = deferring.deferral.taken() {
            self.until_durable_on_runtime(seen).await?;
        }
        answer
    }

    /// [`Account::read`] for a task: the answer awaits the disk instead of blocking a runtime worker on it,
    /// and is asked again when a failed commit voided what it saw, so `query` must only read. A panic in it
    /// unwinds, as in a read that blocks.
    pub async fn read_on_runtime<T>(&self, query: impl Fn(&Account) -> T) -> T {
        if self.inline_calls {
            return query(self);
        }
        loop {
            let deferring = self.deferring();
            let answer = query(&deferring);
            match deferring.deferral.taken() {
                Some(seen) if self.until_durable_on_runtime(seen).await.is_err() => {}
                _ => return answer,
            }
        }
    }

    /// A handle whose answers note what they saw instead of waiting for the disk.
    fn deferring(&self) -> Account {
        Account { deferral: Deferral(Some(Arc::default())), ..self.clone() }
    }

    /// [`Account::until_durable`] for a task: awaits the commit instead of blocking on it. Fails only when a
    /// failed commit voided what was seen.
    async fn until_durable_on_runtime(&self, seen: Seen) -> DomainResult<()> {
        // Subscribed before the first look, so that a commit after it wakes this call.
        let mut committed = self.committed.subscribe();
        let mut asked = false;
        loop {
            if let Some(settled) = self.lock().settled(seen) {
                return settled;
            }
            if !asked {
                self.request_commits();
                asked = true;
            }
            if committed.changed().await.is_err() {
                // Not reached: `self` holds the sender. Were it reached, waiting for ever would be safer than
                // an answer before the disk, or than a retry that fails at once (this fails only when void).
                std::future::pending::<()>().await;
            }
        }
    }

    /// Starts a round of commits on the blocking pool unless one is running.
    fn request_commits(&self) {
        if !self.committing.swap(true, Ordering::SeqCst) {
            let account = self.clone();
            tokio::task::spawn_blocking(move || account.commit_round());
        }
    }

    /// Commits until the queue is empty. A call that queues while the round runs finds it running and
    /// relies on it: so the round looks at the queue once more after saying it stopped.
    fn commit_round(&self) {
        loop {
            {
                let _running = Running(&self.committing);
                while !self.lock().queued.is_empty() {
                    // The store is let go between batches: a call that waits for the disk itself may have
                    // what it saw written already.
                    let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
                    // A failure voids the queue; its waiters learn it when they look.
                    let _ = self.commit_next(store.as_mut());
                }
            }
            if self.lock().queued.is_empty() || self.committing.swap(true, Ordering::SeqCst) {
                return;
            }
        }
    }
}

/// Says a round stopped however it ends, a panic included: a round that seemed to run for ever would leave
/// every later call waiting.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
