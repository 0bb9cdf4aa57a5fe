//! The account's changes for a consumer that waits on the network between looks (the peer link's two
//! halves). Every commit's events arrive whole in the feed's own inbox, so the consumer never falls
//! behind (a broadcast ring overflows on a commit of more events than it holds, and a consumer that
//! missed events must resync every end); each look takes the latest event of every end that changed since
//! the last one.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Account, Event};

/// What [`ChangeFeed::next`] found.
#[derive(Debug)]
pub enum Changes {
    /// The latest event of every end that changed since the last look, in the order of those events.
    Events(Vec<Event>),
    /// The account is gone.
    Closed,
}

/// Where the account puts each commit's events for one feed.
pub(super) type Inbox = mpsc::UnboundedSender<Arc<[Event]>>;

#[derive(Debug)]
pub struct ChangeFeed {
    inbox: mpsc::UnboundedReceiver<Arc<[Event]>>,
}

impl ChangeFeed {
    /// Every change committed from now on (registered before this returns).
    pub fn new(account: &Account) -> Self {
        Self { inbox: account.feed() }
    }

    /// Waits until something changed, and takes all of it. Cancel-safe: nothing is taken before the
    /// first commit arrives, and after it nothing waits.
    pub async fn next(&mut self) -> Changes {
        let Some(first) = self.inbox.recv().await else { return Changes::Closed };
        let mut latest: HashMap<&str, (usize, &Event)> = HashMap::new();
        let mut commits = vec![first];
        while let Ok(commit) = self.inbox.try_recv() {
            commits.push(commit);
        }
        for (seq, event) in commits.iter().flat_map(|c| c.iter()).enumerate() {
            latest.insert(&event.router_interface().router_interface_id, (seq, event));
        }
        let mut events: Vec<(usize, &Event)> = latest.into_values().collect();
        events.sort_unstable_by_key(|(seq, _)| *seq);
        Changes::Events(events.into_iter().map(|(_, e)| e.clone()).collect())
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
    async fn takes_the_latest_event_of_each_end_in_order_from_any_number_of_commits() {
        let (tx, inbox) = mpsc::unbounded_channel();
        let mut feed = ChangeFeed { inbox };
        // A commit far larger than the account's broadcast holds, then more, while nobody looks.
        let big: Vec<Event> = (1..=10_000).map(|v| Event::Changed(end("ri-b", v))).collect();
        tx.send(big.into()).unwrap();
        tx.send(vec![Event::Changed(end("ri-c", 1)), Event::Deleted(end("ri-a", 1))].into()).unwrap();
        tx.send(vec![Event::Changed(end("ri-c", 2))].into()).unwrap();
        let Changes::Events(events) = feed.next().await else { panic!("expected events") };
        let seen: Vec<(&str, u64, bool)> = events
            .iter()
            .map(|e| {
                let ri = e.router_interface();
                (ri.router_interface_id.as_str(), ri.version, matches!(e, Event::Deleted(_)))
            })
            .collect();
        assert_eq!(seen, [("ri-b", 10_000, false), ("ri-a", 1, true), ("ri-c", 2, false)]);
        drop(tx);
        assert!(matches!(feed.next().await, Changes::Closed));
    }
}
