//! Billing records and the time-based events of one end, as pure code: when the next event is due and
//! what each does to the end. Money moves in `account::billing`, which fires the events in time order.

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use super::model::{BusinessStatus, ChargeType, PricingCycle, Role, RouterInterface};
use super::prices::{Money, charged_between};

/// An overdue end is locked once it has been overdue for more than this.
pub const GRACE: Duration = Duration::hours(24);

/// One end's billing state, beside its charge type, period, auto-renew flag and end time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndBilling {
    /// Pay-as-you-go: usage is charged up to here; the next hour is due an hour later.
    pub billed_until: Option<DateTime<Utc>>,
    /// Since when the end is overdue: its subscription ran out, or its pay-as-you-go account went below zero.
    pub overdue_since: Option<DateTime<Utc>>,
    /// A renewal's bandwidth change, waiting for the next billing cycle.
    pub reservation: Option<Reservation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub spec: String,
    pub active_time: DateTime<Utc>,
}

/// The account's money and clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBilling {
    pub balance: Money,
    /// How far the service's clock is ahead of the machine's, in seconds (AdvanceClock).
    pub clock_offset_seconds: i64,
    /// Orders made so far; the next order's id is one more.
    pub orders_made: u64,
    /// Since when the balance has been below zero.
    #[serde(default)]
    pub negative_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    Buy,
    Renew,
    AutoRenew,
    Upgrade,
    Downgrade,
    Usage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub router_interface_id: String,
    pub order_type: OrderType,
    pub spec: String,
    pub charge_type: ChargeType,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: u32,
    pub amount: Money,
    pub create_time: DateTime<Utc>,
    /// The time paid for.
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub balance_after: Money,
}

/// A time-based event of one end. The order breaks ties at the same instant: a reserved spec applies before
/// the renewal at that time prices the next cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DueKind {
    /// The reserved spec takes effect.
    Reserve,
    /// The subscription reaches its end time: auto-renew, or become overdue.
    Expire,
    /// One more hour of pay-as-you-go.
    Accrue,
    /// Overdue for more than 24 hours: FinancialLocked.
    Lock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub kind: DueKind,
}

impl Due {
    /// Whether the clock has passed it: the lock needs *more* than 24 hours, the rest fire at their instant.
    pub fn fires_by(&self, now: DateTime<Utc>) -> bool {
        match self.kind {
            DueKind::Lock => now > self.at,
            _ => now >= self.at,
        }
    }
}

/// Whether `end` pays: an initiator whose opposite is in another region. The acceptor never pays.
pub fn charged(end: &RouterInterface) -> bool {
    end.role == Role::InitiatingSide && charged_between(&end.region_id, &end.opposite.region_id)
}

pub fn is_locked(end: &RouterInterface) -> bool {
    end.business_status == BusinessStatus::FinancialLocked
}

/// The months one period covers.
pub fn months(cycle: PricingCycle, period: u32) -> u32 {
    match cycle {
        PricingCycle::Month => period,
        PricingCycle::Year => period * 12,
    }
}

pub fn add_months(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The end's next time-based event, if any.
pub fn next_due(end: &RouterInterface) -> Option<Due> {
    if end.role != Role::InitiatingSide {
        return None;
    }
    let billing = &end.billing;
    let mut due = Vec::with_capacity(3);
    if let Some(reservation) = &billing.reservation {
        due.push(Due { at: reservation.active_time, kind: DueKind::Reserve });
    }
    match billing.overdue_since {
        Some(since) if !is_locked(end) => due.push(Due { at: since + GRACE, kind: DueKind::Lock }),
        _ => {}
    }
    match end.charge_type {
        // A free (same-region) subscription never runs out.
        ChargeType::PrePaid if !charged(end) => {}
        ChargeType::PrePaid => {
            if let (Some(end_time), None) = (end.end_time, billing.overdue_since) {
                due.push(Due { at: end_time, kind: DueKind::Expire });
            }
        }
        ChargeType::PostPaid => {
            if let Some(billed_until) = billing.billed_until.filter(|_| charged(end) && !is_locked(end)) {
                due.push(Due { at: billed_until + Duration::hours(1), kind: DueKind::Accrue });
            }
        }
    }
    due.into_iter().min()
}

/// Overdue for more than the grace: the end stops forwarding and refuses changes until paid.
pub fn lock(end: &mut RouterInterface) {
    end.business_status = BusinessStatus::FinancialLocked;
    end.version += 1;
}

/// Paid: no longer overdue, unlocked; a locked pay-as-you-go end is charged again from `now`.
pub fn settle(end: &mut RouterInterface, now: DateTime<Utc>) {
    // A locked end was not charged while it did not forward.
    if is_locked(end) && end.charge_type == ChargeType::PostPaid && charged(end) {
        end.billing.billed_until = Some(now);
    }
    end.billing.overdue_since = None;
    end.business_status = BusinessStatus::Normal;
    end.version += 1;
}

/// The reserved spec takes effect.
pub fn apply_reservation(end: &mut RouterInterface) {
    if let Some(reservation) = end.billing.reservation.take() {
        end.spec = reservation.spec;
    }
    end.version += 1;
}

/// Marks the end overdue from `since` (kept if it already was).
pub fn mark_overdue(end: &mut RouterInterface, since: DateTime<Utc>) {
    if end.billing.overdue_since.is_none() {
        end.billing.overdue_since = Some(since);
        end.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle_end(role: Role) -> RouterInterface {
        RouterInterface::sample("ri-a", "1000000000000001", "vrt-a", role)
    }

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::hours(hours)
    }

    #[test]
    fn the_lock_needs_more_than_twenty_four_hours() {
        let due = Due { at: at(24), kind: DueKind::Lock };
        assert!(!due.fires_by(at(24)));
        assert!(!due.fires_by(at(24) - Duration::minutes(1)));
        assert!(due.fires_by(at(24) + Duration::minutes(1)));
        assert!(Due { at: at(24), kind: DueKind::Expire }.fires_by(at(24)));
    }

    #[test]
    fn an_acceptor_has_no_billing_events() {
        let mut end = idle_end(Role::AcceptingSide);
        end.billing.billed_until = Some(at(0));
        assert_eq!(next_due(&end), None);
    }

    #[test]
    fn a_charged_pay_as_you_go_end_accrues_hourly_until_locked() {
        let mut end = idle_end(Role::InitiatingSide);
        end.opposite.region_id = "cn-shanghai".into();
        end.billing.billed_until = Some(at(5));
        assert_eq!(next_due(&end), Some(Due { at: at(6), kind: DueKind::Accrue }));
        end.billing.overdue_since = Some(at(2));
        assert_eq!(next_due(&end), Some(Due { at: at(6), kind: DueKind::Accrue }));
        end.billing.billed_until = Some(at(40));
        assert_eq!(next_due(&end), Some(Due { at: at(26), kind: DueKind::Lock }));
        lock(&mut end);
        assert_eq!(next_due(&end), None);
        settle(&mut end, at(50));
        assert_eq!(next_due(&end), Some(Due { at: at(51), kind: DueKind::Accrue }));
    }

    #[test]
    fn a_same_region_end_never_accrues_nor_expires() {
        let mut end = idle_end(Role::InitiatingSide);
        end.opposite.region_id = end.region_id.clone();
        end.billing.billed_until = Some(at(5));
        assert_eq!(next_due(&end), None);
        end.charge_type = ChargeType::PrePaid;
        end.end_time = Some(at(720));
        assert_eq!(next_due(&end), None);
    }

    #[test]
    fn a_subscription_expires_then_locks_and_a_reservation_comes_first() {
        let mut end = idle_end(Role::InitiatingSide);
        end.opposite.region_id = "cn-shanghai".into();
        end.charge_type = ChargeType::PrePaid;
        end.end_time = Some(at(720));
        assert_eq!(next_due(&end), Some(Due { at: at(720), kind: DueKind::Expire }));
        end.billing.reservation = Some(Reservation { spec: "Small.2".into(), active_time: at(720) });
        assert_eq!(next_due(&end), Some(Due { at: at(720), kind: DueKind::Reserve }));
        apply_reservation(&mut end);
        assert_eq!(end.spec, "Small.2");
        mark_overdue(&mut end, at(720));
        assert_eq!(next_due(&end), Some(Due { at: at(744), kind: DueKind::Lock }));
    }
}
