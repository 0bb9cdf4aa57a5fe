//! Gives up connects that the acceptor never answered: after the connect timeout an end still Connecting
//! returns to Idle with `last_error`. Uses tokio time, so tests can pause and advance it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use crate::account::{Account, Event};
use crate::domain::{DomainError, ErrorKind};

/// How soon to try again when giving up a connect could not be stored.
const RETRY: Duration = Duration::from_secs(1);

pub fn spawn(account: Account, timeout: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = account.subscribe();
        // Ends found Connecting at start get a full timeout from now: their earlier wait is unknown.
        let mut deadlines: HashMap<String, Instant> =
            connecting_ends(&account).await.into_iter().map(|id| (id, Instant::now() + timeout)).collect();
        loop {
            let next = deadlines.values().min().copied();
            tokio::select! {
                event = events.recv() => match event {
                    Ok(Event::Changed(ri)) if ri.awaits_admission() => {
                        deadlines.entry(ri.router_interface_id.clone()).or_insert_with(|| Instant::now() + timeout);
                    }
                    Ok(event) => {
                        deadlines.remove(&event.router_interface().router_interface_id);
                    }
                    Err(RecvError::Lagged(_)) => {
                        let still = connecting_ends(&account).await;
                        deadlines.retain(|id, _| still.contains(id));
                        for id in still {
                            deadlines.entry(id).or_insert_with(|| Instant::now() + timeout);
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                () = sleep_until(next.unwrap_or_else(|| Instant::now() + timeout)), if next.is_some() => {
                    let now = Instant::now();
                    let expired: Vec<String> = deadlines.iter().filter(|(_, d)| **d <= now).map(|(id, _)| id.clone()).collect();
                    for id in expired {
                        deadlines.remove(&id);
                        let why = timed_out(&account, &id, timeout).await;
                        let giving_up = id.clone();
                        if let Err(e) = account.call(move |a| a.fail_connect(&giving_up, &why)).await {
                            tracing::warn!(error = %e, "could not give up a connect; retrying");
                            deadlines.insert(id, Instant::now() + RETRY);
                        }
                    }
                }
            }
        }
    })
}

async fn connecting_ends(account: &Account) -> Vec<String> {
    account.read_on_runtime(Account::connecting_ends).await
}

async fn timed_out(account: &Account, id: &str, timeout: Duration) -> DomainError {
    let peer = account.read_on_runtime(|a| a.describe_router_interface(id)).await;
    let peer = peer.map(|ri| ri.opposite.owner_id).unwrap_or_default();
    DomainError::new(
        ErrorKind::Unavailable,
        "ConnectTimeout",
        format!("account {peer} did not admit the connection within {}s; the end is Idle again", timeout.as_secs_f64()),
    )
}
