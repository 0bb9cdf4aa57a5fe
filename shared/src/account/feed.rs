//! The account's changes for a consumer that waits on the network between looks (the peer link's two
//! halves). Each commit puts its events straight into every feed, where only the latest event of each end
//! is kept: a feed never falls behind (a broadcast ring overflows on a commit of more events than it holds,
//! and a consumer that missed events must resync every end), and however long its consumer is busy, a feed
//! holds at most one event per end. Each look takes everything that changed since the last one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use super::{Account, Event};

/// What a feed holds between two looks: each end's latest event, with its position among all events.
#[derive(Debug, Default)]
struct Pending {
    latest: HashMap<String, (u64, Event)>,
    next_position: u64,
}

/// The part of a feed the account writes to.
#[derive(Debug, Default)]
pub(super) struct Inbox {
    pending: Mutex<Pending>,
    ready: Notify,
}

impl Inbox {
    /// One commit's events, in order.
    pub(super) fn put(&self, events: &[Event]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            let position = pending.next_position;
            pending.next_position += 1;
            pending.latest.insert(event.router_interface().router_interface_id.clone(), (position, event.clone()));
        }
        drop(pending);
        // Kept as a permit when the consumer is not waiting: its next look finds the events.
        self.ready.notify_one();
    }
}

#[derive(Debug)]
pub struct ChangeFeed {
    inbox: Arc<Inbox>,
}

impl ChangeFeed {
    /// Every change committed from now on (registered before this returns).
    pub fn new(account: &Account) -> Self {
        Self { inbox: account.feed() }
    }

    /// Waits until something changed, and takes all of it: the latest event of every end that changed
    /// since the last look, in the order of those events. Cancel-safe: nothing is taken until returned.
    pub async fn next(&mut self) -> Vec<Event> {
        loop {
            {
                let mut pending = self.inbox.pending.lock().unwrap_or_else(PoisonError::into_inner);
                if !pending.latest.is_empty() {
                    let mut events: Vec<(u64, Event)> = pending.latest.drain().map(|(_, e)| e).collect();
                    events.sort_unstable_by_key(|(position, _)| *position);
                    return events.into_iter().map(|(_, e)| e).collect();
                }
            }
            self.inbox.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Role, RouterInterface};

    fn end(id: &str, version: u64) -> Arc<RouterInterface> {
        Arc::new(RouterInterface { version, ..RouterInterface::sample(id, "1", "vrt-a", Role::InitiatingSide) })
    }

    #[tokio::test]
    async fn holds_the_latest_event_of_each_end_in_order_whatever_the_commits() {
        let inbox = Arc::new(Inbox::default());
        let mut feed = ChangeFeed { inbox: inbox.clone() };
        // A commit far larger than the account's broadcast holds, then more, while nobody looks.
        let big: Vec<Event> = (1..=10_000).map(|v| Event::Changed(end("ri-b", v))).collect();
        inbox.put(&big);
        inbox.put(&[Event::Changed(end("ri-c", 1)), Event::Deleted(end("ri-a", 1))]);
        inbox.put(&[Event::Changed(end("ri-c", 2))]);
        assert_eq!(inbox.pending.lock().unwrap().latest.len(), 3, "one event per end is held");
        let seen: Vec<(String, u64, bool)> = feed
            .next()
            .await
            .iter()
            .map(|e| {
                let ri = e.router_interface();
                (ri.router_interface_id.clone(), ri.version, matches!(e, Event::Deleted(_)))
            })
            .collect();
        let expected = [("ri-b", 10_000, false), ("ri-a", 1, true), ("ri-c", 2, false)];
        assert_eq!(seen, expected.map(|(id, v, d)| (id.to_owned(), v, d)));
        // Nothing more until the next commit; a look that was cancelled takes nothing.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(10), feed.next()).await;
        assert!(waiting.is_err());
        inbox.put(&[Event::Changed(end("ri-a", 3))]);
        assert_eq!(feed.next().await.len(), 1);
    }
}
