//! Billing: the balance, orders, purchases, renewals, spec changes, and the events of the billing clock,
//! fired in time order. Each call's money moves and end changes commit together.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::router_interfaces::propagate;
use super::{Account, AccountState, Context, DomainResult, Page, PageRequest};
use crate::domain::billing::{self, AccountBilling, Due, DueKind, Order, OrderType, Reservation};
use crate::domain::model::{ChargeType, PricingCycle, Role, RouterInterface, Status};
use crate::domain::prices::{Money, PriceTable};
use crate::domain::{DomainError, catalog, rules};
use crate::store::Change;

/// What an account starts with.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    pub prices: Arc<PriceTable>,
    /// The balance of a new account (an existing one keeps its stored balance).
    pub initial_balance: Money,
}

/// A new account's balance unless told otherwise: enough that nothing is refused for money in a demo.
pub const DEFAULT_INITIAL_BALANCE: &str = "100000000.00";

impl Default for BillingSettings {
    fn default() -> Self {
        let initial_balance = Money::parse("initial_balance", DEFAULT_INITIAL_BALANCE).unwrap_or_default();
        Self { prices: Arc::new(PriceTable::built_in()), initial_balance }
    }
}

/// The longest single AdvanceClock: a year and a bit. (Each hour of each charged pay-as-you-go end on the
/// way is an order, so one call's work stays bounded.)
pub const MAX_ADVANCE: Duration = Duration::days(400);

/// How far ahead of the machine the clock may be moved in all.
pub const MAX_OFFSET: Duration = Duration::days(36_600);

/// A pro-rated upgrade counts a month as this long.
const PRO_RATA_MONTH: Duration = Duration::days(30);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    pub router_interface_id: String,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: i32,
    /// Empty: keep the spec.
    pub spec: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewed {
    pub order_id: String,
    pub end_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecChanged {
    pub spec: String,
    pub bandwidth: u32,
    pub order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub available: Money,
    pub currency: String,
    pub overdue_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub router_interface_id: String,
    pub order_type: Option<OrderType>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockReading {
    pub now: DateTime<Utc>,
    pub offset: Duration,
    pub next_event: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advanced {
    pub now: DateTime<Utc>,
    pub events_fired: usize,
}

/// One call's working copy of the account's money and of the ends it touches. Nothing is visible until
/// the call's changes commit.
struct Ledger<'a> {
    state: &'a AccountState,
    prices: &'a PriceTable,
    billing: AccountBilling,
    ends: BTreeMap<String, RouterInterface>,
    orders: Vec<Order>,
}

/// An order to make: what, for which end, and the time it pays for.
struct Charge {
    order_type: OrderType,
    amount: Money,
    at: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl<'a> Ledger<'a> {
    fn new(state: &'a AccountState, prices: &'a PriceTable) -> Self {
        Self { state, prices, billing: state.billing().clone(), ends: BTreeMap::new(), orders: Vec::new() }
    }

    /// The end as this call has it so far.
    fn end(&mut self, id: &str) -> Option<&mut RouterInterface> {
        if !self.ends.contains_key(id) {
            let stored = self.state.router_interface("router_interface_id", id).ok()?.clone();
            self.ends.insert(id.to_owned(), stored);
        }
        self.ends.get_mut(id)
    }

    /// Takes the money and writes the order.
    fn charge(&mut self, end: &RouterInterface, charge: Charge) -> String {
        self.billing.orders_made += 1;
        self.billing.balance = self.billing.balance - charge.amount;
        let order_id = self.billing.orders_made.to_string();
        self.orders.push(Order {
            order_id: order_id.clone(),
            router_interface_id: end.router_interface_id.clone(),
            order_type: charge.order_type,
            spec: end.spec.clone(),
            charge_type: end.charge_type,
            pricing_cycle: end.pricing_cycle,
            period: end.period,
            amount: charge.amount,
            create_time: charge.at,
            start_time: charge.start,
            end_time: charge.end,
            balance_after: self.billing.balance,
        });
        order_id
    }

    fn check_affordable(&self, amount: Money) -> DomainResult<()> {
        if self.billing.balance < amount {
            return Err(DomainError::precondition(
                "PAY.INSUFFICIENT_BALANCE",
                format!(
                    "this costs {amount} {currency} but the balance is {balance} {currency}; top up with TopUpAccount",
                    currency = self.prices.currency,
                    balance = self.billing.balance
                ),
            ));
        }
        Ok(())
    }

    /// One period of a subscription at the end's spec.
    fn period_price(&self, end: &RouterInterface, spec: &str) -> Money {
        let months = end.pricing_cycle.map_or(0, |cycle| billing::months(cycle, end.period));
        self.monthly(end, spec).scale(i64::from(months), 1)
    }

    fn monthly(&self, end: &RouterInterface, spec: &str) -> Money {
        self.prices.monthly(spec, &end.region_id, &end.opposite.region_id)
    }

    /// Charges pay-as-you-go usage since the last whole hour, pro rata by the second, at the end's spec now:
    /// before its spec changes or it is deleted.
    fn charge_partial_hour(&mut self, end: &mut RouterInterface, now: DateTime<Utc>) {
        let Some(since) = end
            .billing
            .billed_until
            .filter(|_| end.charge_type == ChargeType::PostPaid && billing::charged(end) && !billing::is_locked(end))
        else {
            return;
        };
        let seconds = (now.timestamp() - since.timestamp()).max(0);
        if seconds == 0 {
            return;
        }
        let amount = self.prices.hourly(&end.spec, &end.region_id, &end.opposite.region_id).scale(seconds, 3600);
        self.charge(end, Charge { order_type: OrderType::Usage, amount, at: now, start: since, end: now });
        end.billing.billed_until = Some(now);
    }

    /// Fires every billing event due by `now`, in time order; returns how many fired.
    fn catch_up(&mut self, now: DateTime<Utc>) -> usize {
        let mut queue: BTreeSet<(Due, String)> = self.state.due_by(now).map(|(due, id)| (due, id.to_owned())).collect();
        let mut fired = 0;
        while let Some((due, id)) = queue.pop_first() {
            let Some(current) = self.end(&id).and_then(|end| billing::next_due(end)) else {
                continue;
            };
            if current == due {
                fired += 1;
                for touched in self.fire(due, &id) {
                    if let Some(next) = self.end(&touched).and_then(|end| billing::next_due(end))
                        && next.fires_by(now)
                    {
                        queue.insert((next, touched));
                    }
                }
            } else if current.fires_by(now) {
                // An earlier event of this call changed the end's schedule.
                queue.insert((current, id));
            }
        }
        fired
    }

    /// Fires one event; returns the ends it touched (the event's own end first).
    fn fire(&mut self, due: Due, id: &str) -> Vec<String> {
        let Some(mut end) = self.end(id).cloned() else {
            return Vec::new();
        };
        let mut touched = vec![id.to_owned()];
        match due.kind {
            DueKind::Reserve => billing::apply_reservation(&mut end),
            DueKind::Lock => billing::lock(&mut end),
            DueKind::Expire => {
                let price = self.period_price(&end, &end.spec);
                if end.auto_renew && self.billing.balance >= price {
                    let next_end = billing::add_months(due.at, months_of(&end));
                    self.charge(
                        &end,
                        Charge {
                            order_type: OrderType::AutoRenew,
                            amount: price,
                            at: due.at,
                            start: due.at,
                            end: next_end,
                        },
                    );
                    end.end_time = Some(next_end);
                    end.version += 1;
                } else {
                    billing::mark_overdue(&mut end, due.at);
                }
            }
            DueKind::Accrue => {
                let start = end.billing.billed_until.unwrap_or(due.at - Duration::hours(1));
                let amount = self.prices.hourly(&end.spec, &end.region_id, &end.opposite.region_id);
                let was_negative = self.billing.balance.is_negative();
                self.charge(&end, Charge { order_type: OrderType::Usage, amount, at: due.at, start, end: due.at });
                end.billing.billed_until = Some(due.at);
                end.version += 1;
                if !was_negative && self.billing.balance.is_negative() {
                    self.billing.negative_since = Some(due.at);
                    self.ends.insert(id.to_owned(), end.clone());
                    touched.extend(self.mark_pay_as_you_go_overdue(due.at).into_iter().filter(|other| other != id));
                    end = self.ends[id].clone();
                }
            }
        }
        self.ends.insert(id.to_owned(), end);
        touched
    }

    /// The balance went below zero: every charged pay-as-you-go end of the account is overdue from `at`.
    fn mark_pay_as_you_go_overdue(&mut self, at: DateTime<Utc>) -> Vec<String> {
        let ids: Vec<String> = self
            .state
            .router_interfaces()
            .filter(|ri| ri.charge_type == ChargeType::PostPaid && billing::charged(ri))
            .map(|ri| ri.router_interface_id.clone())
            .collect();
        for id in &ids {
            if let Some(end) = self.end(id) {
                billing::mark_overdue(end, at);
            }
        }
        ids
    }

    /// A top-up brought the balance back: pay-as-you-go ends are no longer overdue, and overdue
    /// subscriptions with auto-renew renew now if the money allows.
    fn settle_after_top_up(&mut self, now: DateTime<Utc>) {
        if self.billing.balance.is_negative() {
            return;
        }
        self.billing.negative_since = None;
        let mut overdue: Vec<(DateTime<Utc>, String)> =
            self.state.overdue_ends().map(|(since, id)| (since, id.to_owned())).collect();
        overdue.sort();
        for (_, id) in overdue {
            let Some(end) = self.end(&id).cloned() else { continue };
            match end.charge_type {
                ChargeType::PostPaid => {
                    if let Some(end) = self.end(&id) {
                        billing::settle(end, now);
                    }
                }
                ChargeType::PrePaid if end.auto_renew => {
                    let price = self.period_price(&end, &end.spec);
                    if self.billing.balance >= price {
                        let mut renewed = end.clone();
                        let next_end = billing::add_months(now, months_of(&renewed));
                        self.charge(
                            &renewed,
                            Charge {
                                order_type: OrderType::AutoRenew,
                                amount: price,
                                at: now,
                                start: now,
                                end: next_end,
                            },
                        );
                        renewed.end_time = Some(next_end);
                        billing::settle(&mut renewed, now);
                        self.ends.insert(id, renewed);
                    }
                }
                ChargeType::PrePaid => {}
            }
        }
    }

    /// The call's changes: the ends it touched (with their opposite in this account following), the
    /// orders, and the balance.
    fn into_changes(self, ctx: &Context) -> Vec<Change> {
        let mut changes = Vec::new();
        for end in self.ends.into_values() {
            changes.extend(propagate(self.state, ctx, end));
        }
        changes.extend(self.orders.into_iter().map(Change::PutOrder));
        if &self.billing != self.state.billing() {
            changes.push(Change::PutAccountBilling(self.billing));
        }
        changes
    }
}

fn months_of(end: &RouterInterface) -> u32 {
    end.pricing_cycle.map_or(0, |cycle| billing::months(cycle, end.period))
}

/// Refuses new purchases (and connects) while the account owes money.
pub(super) fn check_not_overdue(state: &AccountState) -> DomainResult<()> {
    if let Some(since) = state.overdue_since() {
        return Err(DomainError::precondition(
            "Forbidden.BillsOutstanding",
            format!(
                "the account has been overdue since {since} (balance {}); renew or top up first",
                state.billing().balance
            ),
        ));
    }
    Ok(())
}

/// The initiator end of `end_id` as the caller may change its billing: an initiator, not locked.
fn billed_end<'a>(ledger: &'a mut Ledger<'_>, id: &str) -> DomainResult<&'a mut RouterInterface> {
    ledger.state.router_interface("router_interface_id", id)?;
    let end = ledger.end(id).ok_or_else(|| DomainError::internal(format!("{id} vanished")))?;
    if end.role != Role::InitiatingSide {
        return Err(DomainError::precondition(
            "IncorrectRole.NotInitiatingSide",
            format!("{id} is an acceptor end: it uses the initiator's bandwidth and is never charged"),
        ));
    }
    Ok(end)
}

impl Account {
    /// The price table's currency.
    pub fn currency(&self) -> &str {
        &self.prices.currency
    }

    /// Starts the billing of ends a create call makes: refused while the account is overdue; a
    /// subscription pays its period now, pay-as-you-go is charged by the hour from now.
    pub(super) fn bill_new_ends(
        &self,
        state: &AccountState,
        ctx: &Context,
        changes: &mut Vec<Change>,
    ) -> DomainResult<()> {
        check_not_overdue(state)?;
        let mut ledger = Ledger::new(state, &self.prices);
        for change in changes.iter_mut() {
            let Change::PutRouterInterface(end) = change else { continue };
            if state.router_interface("router_interface_id", &end.router_interface_id).is_ok()
                || end.role != Role::InitiatingSide
            {
                continue;
            }
            match end.charge_type {
                ChargeType::PrePaid => {
                    let price = ledger.period_price(end, &end.spec);
                    ledger.check_affordable(price)?;
                    let until = end.end_time.unwrap_or(ctx.now);
                    ledger.charge(
                        end,
                        Charge { order_type: OrderType::Buy, amount: price, at: ctx.now, start: ctx.now, end: until },
                    );
                }
                ChargeType::PostPaid if billing::charged(end) => {
                    Arc::make_mut(end).billing.billed_until = Some(ctx.now)
                }
                ChargeType::PostPaid => {}
            }
        }
        changes.extend(ledger.into_changes(ctx));
        Ok(())
    }

    /// The last part-hour of a pay-as-you-go end that is being deleted.
    pub(super) fn bill_deleted_end(
        &self,
        state: &AccountState,
        ctx: &Context,
        end: &RouterInterface,
        changes: &mut Vec<Change>,
    ) {
        let mut ledger = Ledger::new(state, &self.prices);
        ledger.charge_partial_hour(&mut end.clone(), ctx.now);
        changes.extend(ledger.into_changes(ctx));
    }

    pub fn renew_instance(&self, renewal: Renewal, client_token: &str) -> DomainResult<Renewed> {
        self.execute("RenewInstance", client_token, &renewal, |state, ctx| {
            let mut ledger = Ledger::new(state, &self.prices);
            let id = renewal.router_interface_id.as_str();
            let end = billed_end(&mut ledger, id)?.clone();
            if end.charge_type != ChargeType::PrePaid {
                return Err(DomainError::precondition(
                    "OperationUnsupported.PostPaid",
                    format!("{id} is pay-as-you-go: it is charged by the hour and has nothing to renew"),
                ));
            }
            let months = rules::check_period(ChargeType::PrePaid, renewal.pricing_cycle, renewal.period, false)?;
            let months = billing::months(renewal.pricing_cycle.unwrap_or(PricingCycle::Month), months);
            // The spec the next period starts with: a waiting change applies before it.
            let waiting = end.billing.reservation.as_ref().map(|r| r.spec.clone());
            let next_spec = waiting.clone().unwrap_or_else(|| end.spec.clone());
            let spec = if renewal.spec.is_empty() {
                next_spec.clone()
            } else {
                catalog::spec("spec", &renewal.spec)?.to_owned()
            };
            if waiting.is_some() && spec != next_spec {
                return Err(reservation_pending(&end));
            }
            let price = ledger.monthly(&end, &spec).scale(i64::from(months), 1);
            ledger.check_affordable(price)?;
            let mut renewed = end.clone();
            let expired = end.billing.overdue_since.is_some();
            // An expired subscription starts again now; a running one is extended from its end time.
            let start = match end.end_time {
                Some(end_time) if !expired => end_time,
                _ => ctx.now,
            };
            let new_end = billing::add_months(start, months);
            if spec != end.spec {
                if expired {
                    renewed.spec.clone_from(&spec);
                } else if waiting.is_none() {
                    renewed.billing.reservation = Some(Reservation { spec: spec.clone(), active_time: start });
                }
            }
            renewed.end_time = Some(new_end);
            renewed.version += 1;
            if expired {
                billing::settle(&mut renewed, ctx.now);
            }
            // The order says what this renewal bought.
            let mut priced = renewed.clone();
            priced.spec = spec;
            priced.pricing_cycle = renewal.pricing_cycle;
            priced.period = u32::try_from(renewal.period).unwrap_or_default();
            let order_id = ledger.charge(
                &priced,
                Charge { order_type: OrderType::Renew, amount: price, at: ctx.now, start, end: new_end },
            );
            ledger.ends.insert(id.to_owned(), renewed);
            Ok((ledger.into_changes(ctx), Renewed { order_id, end_time: new_end }))
        })
    }

    /// The seed's "Upgrade": a new bandwidth now, for an Activated initiator end.
    pub fn modify_router_interface_spec(&self, id: &str, spec: &str, client_token: &str) -> DomainResult<SpecChanged> {
        self.execute("ModifyRouterInterfaceSpec", client_token, &(id, spec), |state, ctx| {
            let mut ledger = Ledger::new(state, &self.prices);
            let end = billed_end(&mut ledger, id)?.clone();
            let spec = catalog::spec("spec", spec)?.to_owned();
            if billing::is_locked(&end) {
                return Err(DomainError::precondition(
                    "Forbidden.FinancialLocked",
                    format!("{id} is locked for an overdue payment; renew or top up first"),
                ));
            }
            check_not_overdue(state)?;
            if end.status != Status::Activated {
                return Err(DomainError::precondition(
                    "IncorrectStatus",
                    format!("{id} is {:?}; its bandwidth can be changed only when its status is Activated", end.status),
                ));
            }
            if spec == end.spec {
                return Err(DomainError::invalid("spec", "InvalidParameter", format!("{id} already has spec {spec}")));
            }
            let upgrade = catalog::bandwidth(&spec) > end.bandwidth();
            let amount = match end.charge_type {
                ChargeType::PrePaid if !upgrade => {
                    return Err(DomainError::invalid(
                        "spec",
                        "OperationUnsupported.Downgrade",
                        format!(
                            "{id} is a subscription: its bandwidth can go down only from the next billing cycle \
                             (RenewInstance with spec {spec})"
                        ),
                    ));
                }
                ChargeType::PrePaid if end.billing.reservation.is_some() => return Err(reservation_pending(&end)),
                ChargeType::PrePaid => {
                    // In whole seconds as Describe shows the times, so anyone can check the figure.
                    let remaining = end.end_time.map_or(0, |t| t.timestamp() - ctx.now.timestamp()).max(0);
                    let difference = ledger.monthly(&end, &spec) - ledger.monthly(&end, &end.spec);
                    difference.scale(remaining, PRO_RATA_MONTH.num_seconds())
                }
                // Pay-as-you-go pays by the hour at whatever spec the end has then.
                ChargeType::PostPaid => Money::ZERO,
            };
            ledger.check_affordable(amount)?;
            let mut changed = end.clone();
            // Pay-as-you-go pays for the part of the hour at the old spec first.
            ledger.charge_partial_hour(&mut changed, ctx.now);
            changed.spec.clone_from(&spec);
            changed.version += 1;
            let order_id = ledger.charge(
                &changed,
                Charge {
                    order_type: if upgrade { OrderType::Upgrade } else { OrderType::Downgrade },
                    amount,
                    at: ctx.now,
                    start: ctx.now,
                    end: changed.end_time.unwrap_or(ctx.now),
                },
            );
            let bandwidth = changed.bandwidth();
            ledger.ends.insert(id.to_owned(), changed);
            Ok((ledger.into_changes(ctx), SpecChanged { spec, bandwidth, order_id }))
        })
    }

    pub fn top_up(&self, amount: &str, client_token: &str) -> DomainResult<Money> {
        self.execute("TopUpAccount", client_token, &amount, |state, ctx| {
            let money = Money::parse("amount", amount)?;
            if money <= Money::ZERO || money > Money(100_000_000_000) {
                return Err(DomainError::invalid(
                    "amount",
                    "InvalidParameter",
                    format!("amount must be more than 0 and at most 1000000000.00 (got {amount})"),
                ));
            }
            let mut ledger = Ledger::new(state, &self.prices);
            ledger.billing.balance = ledger.billing.balance + money;
            ledger.settle_after_top_up(ctx.now);
            let balance = ledger.billing.balance;
            Ok((ledger.into_changes(ctx), balance))
        })
    }

    pub fn balance(&self) -> Balance {
        self.read(|state, _| Balance {
            available: state.billing().balance,
            currency: self.prices.currency.clone(),
            overdue_since: state.overdue_since(),
        })
    }

    pub fn orders(&self, filter: &OrderFilter, page: PageRequest) -> DomainResult<Page<Order>> {
        if !filter.router_interface_id.is_empty() {
            crate::domain::ids::parse(
                "router_interface_id",
                crate::domain::ids::ROUTER_INTERFACE,
                &filter.router_interface_id,
            )?;
        }
        Ok(self.read(|state, _| {
            page.page_of(
                state
                    .orders()
                    .iter()
                    .filter(|o| {
                        filter.router_interface_id.is_empty() || o.router_interface_id == filter.router_interface_id
                    })
                    .filter(|o| filter.order_type.is_none_or(|t| o.order_type == t)),
            )
        }))
    }

    pub fn clock(&self) -> ClockReading {
        self.read(|state, ctx| ClockReading {
            now: ctx.now,
            offset: Duration::seconds(state.billing().clock_offset_seconds),
            next_event: state.next_due().map(|due| due.at),
        })
    }

    /// Moves the clock forward by `by` and fires every billing event on the way.
    pub fn advance_clock(&self, by: Duration, client_token: &str) -> DomainResult<Advanced> {
        self.execute("AdvanceClock", client_token, &by.num_milliseconds(), |state, ctx| {
            let offset = Duration::seconds(state.billing().clock_offset_seconds) + by;
            if by <= Duration::zero() || by > MAX_ADVANCE || by.subsec_nanos() != 0 || offset > MAX_OFFSET {
                return Err(DomainError::invalid(
                    "by",
                    "InvalidParameter",
                    format!(
                        "by must be a whole number of seconds, more than 0 and at most {} days, and the clock at \
                         most {} days ahead of the machine's (got {}s)",
                        MAX_ADVANCE.num_days(),
                        MAX_OFFSET.num_days(),
                        by.num_milliseconds() as f64 / 1000.0
                    ),
                ));
            }
            let now = ctx.now + by;
            let mut ledger = Ledger::new(state, &self.prices);
            ledger.billing.clock_offset_seconds += by.num_seconds();
            let events_fired = ledger.catch_up(now);
            // Counted here, where a replayed client token does not reach.
            self.metrics().billing_events_fired(events_fired);
            let ctx = Context { now, ..ctx.clone() };
            Ok((ledger.into_changes(&ctx), Advanced { now, events_fired }))
        })
    }

    /// Fires the billing events that came due as time passed; the service calls this every second.
    pub fn fire_due_billing_events(&self) -> DomainResult<usize> {
        if self.read(|state, ctx| state.due_by(ctx.now).next().is_none()) {
            return Ok(0);
        }
        self.execute("BillingClock", "", &(), |state, ctx| {
            let mut ledger = Ledger::new(state, &self.prices);
            let fired = ledger.catch_up(ctx.now);
            Ok((ledger.into_changes(ctx), fired))
        })
    }
}

fn reservation_pending(end: &RouterInterface) -> DomainError {
    let reservation = end.billing.reservation.as_ref();
    DomainError::precondition(
        "INSTANCE_HAS_INACTIVE_CHANGE",
        format!(
            "{} already has a bandwidth change to {} waiting for {}; it takes effect then",
            end.router_interface_id,
            reservation.map_or("", |r| r.spec.as_str()),
            reservation.map_or(String::new(), |r| r.active_time.to_rfc3339()),
        ),
    )
}
