//! Fires billing events as the wall clock reaches them (AdvanceClock fires the ones it jumps over itself).
//! Uses tokio time, so a simulator drives it too.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::account::Account;

/// How often the clock is looked at: billing events are due at whole seconds at the finest.
const TICK: Duration = Duration::from_secs(1);

pub fn spawn(account: Account) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match account.call(Account::fire_due_billing_events).await {
                Ok(0) => {}
                Ok(fired) => {
                    account.metrics().billing_events_fired(fired);
                    tracing::info!(fired, "billing events fired");
                }
                // Nothing was stored; the same events are still due at the next tick.
                Err(e) => tracing::warn!(error = %e, "billing events could not be stored; retrying"),
            }
        }
    })
}
