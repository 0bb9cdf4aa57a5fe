//! Billing on the simulated clock (issue 6), across both services: who pays, subscriptions paid up front,
//! pay-as-you-go by the hour, auto-renewal, renewal with a bandwidth change at the next cycle, the
//! pro-rated upgrade, the 24-hour lock and what both sides see of it, paying to unlock, and a restart or a
//! jump of the clock over several cycles firing each event exactly once.
//!
//! Each service's clock also runs in real time, so every boundary is checked with at least a minute of
//! margin on each side; a test takes seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use scenario_tests::fixtures::{BAD, refused};
use scenario_tests::peering::{
    Ends, Flags, Terms, activate, connect, prepare_connection_with, start_pair, suspend, wait_agreement, wait_for,
};
use scenario_tests::{ACCOUNT_B, Service, TempDir, create_vpc, describe, pb};
use tonic::Code;

const SETTLE: Duration = Duration::from_secs(10);
const PRECONDITION: Code = Code::FailedPrecondition;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text:?} is not RFC 3339: {e}")).to_utc()
}

fn seconds(n: i64) -> prost_types::Duration {
    prost_types::Duration { seconds: n, nanos: 0 }
}

/// Moves `svc`'s clock forward by `by` seconds; returns the events that fired.
async fn advance(svc: &Service, by: i64) -> i32 {
    let request = pb::AdvanceClockRequest { by: Some(seconds(by)), ..Default::default() };
    svc.simulation().await.advance_clock(request).await.unwrap().into_inner().events_fired
}

async fn now(svc: &Service) -> DateTime<Utc> {
    time(&svc.simulation().await.get_clock(pb::GetClockRequest {}).await.unwrap().into_inner().now)
}

/// Advances `svc`'s clock until it reads `target` (it must be ahead).
async fn advance_to(svc: &Service, target: DateTime<Utc>) -> i32 {
    let by = (target - now(svc).await).num_seconds();
    assert!(by > 0, "the clock is already past {target}");
    advance(svc, by).await
}

async fn balance(svc: &Service) -> pb::DescribeAccountBalanceResponse {
    svc.billing().await.describe_account_balance(pb::DescribeAccountBalanceRequest {}).await.unwrap().into_inner()
}

async fn orders(svc: &Service, order_type: pb::OrderType) -> Vec<pb::Order> {
    let mut all = Vec::new();
    for page_number in 1.. {
        let request = pb::DescribeOrdersRequest {
            order_type: order_type as i32,
            page_number,
            page_size: 50,
            ..Default::default()
        };
        let page = svc.billing().await.describe_orders(request).await.unwrap().into_inner();
        let done = page.orders.len() < 50;
        all.extend(page.orders);
        if done {
            break;
        }
    }
    all
}

async fn top_up(svc: &Service, amount: &str) -> String {
    let request = pb::TopUpAccountRequest { amount: amount.into(), ..Default::default() };
    svc.billing().await.top_up_account(request).await.unwrap().into_inner().available_amount
}

async fn renew(svc: &Service, id: &str, months: i32, spec: &str) -> Result<pb::RenewInstanceResponse, tonic::Status> {
    let request = pb::RenewInstanceRequest {
        router_interface_id: id.into(),
        pricing_cycle: pb::PricingCycle::Month as i32,
        period: months,
        spec: spec.into(),
        ..Default::default()
    };
    svc.billing().await.renew_instance(request).await.map(tonic::Response::into_inner)
}

async fn modify_spec(
    svc: &Service,
    id: &str,
    spec: &str,
) -> Result<tonic::Response<pb::ModifyRouterInterfaceSpecResponse>, tonic::Status> {
    let request = pb::ModifyRouterInterfaceSpecRequest {
        router_interface_id: id.into(),
        spec: spec.into(),
        ..Default::default()
    };
    svc.router_interfaces().await.modify_router_interface_spec(request).await
}

async fn end(svc: &Service, id: &str) -> pb::RouterInterface {
    describe(&mut svc.router_interfaces().await, id).await
}

/// The monthly prices of the built-in table (shared/data/prices.json), in cents.
const SMALL_1: i64 = 28_000;
const SMALL_2: i64 = 54_000;
const CROSS_BORDER_FACTOR: i64 = 3;

fn money(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

fn cents(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let (whole, fraction) = text.trim_start_matches('-').split_once('.').unwrap();
    let value = whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap();
    if negative { -value } else { value }
}

/// A pair A → B on `terms`, connected, and both sides agreeing.
async fn connected(flags: &Flags, terms: &Terms) -> (Service, Service, Ends) {
    let (a, b) = start_pair(flags, None, None).await;
    let ends = prepare_connection_with(&a, &b, ACCOUNT_B, terms).await;
    connect(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    (a, b, ends)
}

fn subscription(months: i32, auto_renew: bool) -> Terms {
    Terms {
        bandwidth: "Small.1",
        charge_type: pb::InstanceChargeType::Prepaid,
        pricing_cycle: pb::PricingCycle::Month,
        period: months,
        auto_renew,
        ..Terms::default()
    }
}

fn pay_as_you_go() -> Terms {
    Terms { bandwidth: "Small.1", charge_type: pb::InstanceChargeType::Postpaid, ..Terms::default() }
}

/// The console's *Initiator Only* from a cn-hangzhou VPC of account A, on `terms` (its regions ignored).
fn initiator_only(vpc: &str, terms: &Terms) -> pb::CreatePeeringConnectionRequest {
    pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VpcToVpc as i32,
        routers_to_create: pb::RoutersToCreate::InitiatorOnly as i32,
        local_region_id: "cn-hangzhou".into(),
        local_router_id: vpc.into(),
        peer_region_id: "cn-shanghai".into(),
        peer_router_id: "vpc-0000000000000000000000".into(),
        peer_account_id: ACCOUNT_B.into(),
        bandwidth: terms.bandwidth.into(),
        instance_charge_type: terms.charge_type as i32,
        pricing_cycle: terms.pricing_cycle as i32,
        period: terms.period,
        ..Default::default()
    }
}

/// A question for CheckReachability: from a VPC to an address across the connection.
struct Path {
    source_id: String,
    destination_ip: &'static str,
}

impl Path {
    async fn check(&self, svc: &Service) -> pb::CheckReachabilityResponse {
        let request = pb::CheckReachabilityRequest {
            source_id: self.source_id.clone(),
            destination_ip: self.destination_ip.into(),
        };
        svc.vpcs().await.check_reachability(request).await.unwrap().into_inner()
    }
}

/// Routes each VPC of the connection to the other's block (172.16.0.0/12 in A, 10.0.0.0/8 in B, as
/// `prepare_connection_with` makes them), and returns the path from each side.
async fn routes_both_ways(a: &Service, b: &Service, ends: &Ends) -> (Path, Path) {
    let mut paths = Vec::new();
    for (svc, id, destination, ip) in
        [(a, &ends.initiator, "10.0.0.0/8", "10.1.2.3"), (b, &ends.acceptor, "172.16.0.0/12", "172.16.1.1")]
    {
        let router = end(svc, id).await.router_id;
        let suffix = router.split_once('-').unwrap().1;
        let route = pb::CreateRouteEntryRequest {
            route_table_id: format!("vtb-{suffix}"),
            destination_cidr_block: destination.into(),
            next_hop_type: pb::NextHopType::RouterInterface as i32,
            next_hop_id: id.clone(),
            ..Default::default()
        };
        svc.vpcs().await.create_route_entry(route).await.unwrap();
        paths.push(Path { source_id: format!("vpc-{suffix}"), destination_ip: ip });
    }
    let from_b = paths.pop().unwrap();
    let from_a = paths.pop().unwrap();
    // Each side learns the other's return route over the peer link.
    tokio::time::sleep(Duration::from_millis(500)).await;
    (from_a, from_b)
}

async fn wait_opposite_business(b: &Service, id: &str, business: pb::BusinessStatus) -> pb::RouterInterface {
    wait_for(b, id, SETTLE, &format!("opposite {business:?}"), |ri| ri.opposite_interface_business_status() == business)
        .await
}

#[tokio::test]
async fn a_subscription_pays_its_period_up_front_and_only_the_initiator_pays() {
    let flags = Flags { initial_balance: Some("10000"), ..Flags::default() };
    let (a, b, ends) = connected(&flags, &subscription(3, false)).await;

    let bought = orders(&a, pb::OrderType::Buy).await;
    assert_eq!(bought.len(), 1, "{bought:?}");
    let order = &bought[0];
    assert_eq!(order.router_interface_id, ends.initiator);
    assert_eq!(order.amount, money(3 * SMALL_1), "three months of Small.1 between two mainland regions");
    assert_eq!((order.spec.as_str(), order.period, order.currency.as_str()), ("Small.1", 3, "CNY"));
    assert_eq!(order.balance_after, money(1_000_000 - 3 * SMALL_1));
    assert_eq!(balance(&a).await.available_amount, money(1_000_000 - 3 * SMALL_1));
    let initiator = end(&a, &ends.initiator).await;
    assert!(initiator.charged);
    assert_eq!(time(&initiator.end_time), time(&order.end_time));
    assert_eq!(time(&order.end_time), time(&order.start_time).checked_add_months(chrono::Months::new(3)).unwrap());

    // The acceptor never pays: no orders, the balance untouched, not charged.
    assert!(orders(&b, pb::OrderType::Unspecified).await.is_empty());
    assert_eq!(balance(&b).await.available_amount, money(1_000_000));
    assert!(!end(&b, &ends.acceptor).await.charged);
}

#[tokio::test]
async fn the_same_region_is_free_and_a_border_multiplies_the_price() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let same = Terms { a_region: "cn-hangzhou", b_region: "cn-hangzhou", ..pay_as_you_go() };
    let free = prepare_connection_with(&a, &b, ACCOUNT_B, &same).await;
    let same_subscription = Terms { a_region: "cn-hangzhou", b_region: "cn-hangzhou", ..subscription(1, false) };
    let free_subscription = prepare_connection_with(&a, &b, ACCOUNT_B, &same_subscription).await;
    let abroad = Terms { a_region: "cn-hangzhou", b_region: "us-west-1", ..subscription(1, false) };
    let cross_border = prepare_connection_with(&a, &b, ACCOUNT_B, &abroad).await;
    let charged = prepare_connection_with(&a, &b, ACCOUNT_B, &pay_as_you_go()).await;

    assert!(!end(&a, &free.initiator).await.charged);
    assert!(end(&a, &charged.initiator).await.charged);
    let bought = orders(&a, pb::OrderType::Buy).await;
    let amount_of = |id: &str| bought.iter().find(|o| o.router_interface_id == id).unwrap().amount.clone();
    assert_eq!(amount_of(&free_subscription.initiator), "0.00");
    assert_eq!(amount_of(&cross_border.initiator), money(SMALL_1 * CROSS_BORDER_FACTOR));

    // Hours pass: a free pay-as-you-go end is never charged, a cross-region one every hour.
    advance(&a, 5 * HOUR + MINUTE).await;
    let usage = orders(&a, pb::OrderType::Usage).await;
    assert!(usage.iter().all(|o| o.router_interface_id == charged.initiator), "{usage:?}");
    assert_eq!(usage.len(), 5);

    // Past the end time a free subscription runs on; a charged one without auto-renew is overdue.
    let end_time = time(&end(&a, &free_subscription.initiator).await.end_time);
    advance_to(&a, end_time + chrono::Duration::days(2)).await;
    let free_end = end(&a, &free_subscription.initiator).await;
    assert!(free_end.overdue_since.is_empty(), "{free_end:?}");
    assert_eq!(free_end.business_status(), pb::BusinessStatus::Normal);
    let charged_end = end(&a, &cross_border.initiator).await;
    assert_eq!(charged_end.business_status(), pb::BusinessStatus::FinancialLocked);
}

#[tokio::test]
async fn pay_as_you_go_accrues_hourly_locks_after_more_than_24_hours_overdue_and_a_top_up_unlocks_it() {
    // Small.1 pay-as-you-go costs 280.00 / 720 = 0.39 an hour; 1.00 lasts two hours.
    let hourly = (SMALL_1 + 360) / 720;
    let flags = Flags { initial_balance: Some("1.00"), ..Flags::default() };
    let (a, b, ends) = connected(&flags, &pay_as_you_go()).await;
    let created = time(&end(&a, &ends.initiator).await.creation_time);
    let (from_a, from_b) = routes_both_ways(&a, &b, &ends).await;
    assert!(from_a.check(&a).await.reachable && from_b.check(&b).await.reachable);

    assert_eq!(advance(&a, 2 * HOUR + MINUTE).await, 2);
    let usage = orders(&a, pb::OrderType::Usage).await;
    assert_eq!(usage.iter().map(|o| o.amount.as_str()).collect::<Vec<_>>(), vec![money(hourly); 2]);
    assert_eq!(time(&usage[0].start_time), created, "the first hour starts when the end was bought");
    assert_eq!(time(&usage[1].end_time), created + chrono::Duration::hours(2));
    assert!(!balance(&a).await.overdue);

    // The third hour takes the balance below zero: overdue from then on, not yet locked.
    advance(&a, HOUR).await;
    let owed = balance(&a).await;
    assert_eq!(owed.available_amount, money(100 - 3 * hourly));
    assert!(owed.overdue);
    let overdue_since = created + chrono::Duration::hours(3);
    assert_eq!(time(&owed.overdue_since), overdue_since);
    assert_eq!(time(&end(&a, &ends.initiator).await.overdue_since), overdue_since);

    // 23 h 59 min overdue: still Normal on both sides, still forwarding; new purchases already refused.
    advance_to(&a, overdue_since + chrono::Duration::seconds(24 * HOUR - MINUTE)).await;
    let initiator = end(&a, &ends.initiator).await;
    assert_eq!(initiator.business_status(), pb::BusinessStatus::Normal);
    assert_eq!(end(&b, &ends.acceptor).await.opposite_interface_business_status(), pb::BusinessStatus::Normal);
    let (mut vpcs, mut ris) = (a.vpcs().await, a.router_interfaces().await);
    let (vpc, _) = create_vpc(&mut vpcs, "cn-hangzhou", "192.168.0.0/16").await;
    let another = initiator_only(&vpc, &pay_as_you_go());
    refused(
        "create while overdue",
        ris.create_peering_connection(another.clone()).await,
        PRECONDITION,
        "Forbidden.BillsOutstanding",
        None,
    );

    // 24 h 1 min: FinancialLocked; the acceptor sees it; nothing can be changed; no more hourly charges.
    let fired = advance(&a, 2 * MINUTE).await;
    assert!(fired >= 1, "the lock fired");
    let locked = end(&a, &ends.initiator).await;
    assert_eq!(locked.business_status(), pb::BusinessStatus::FinancialLocked);
    assert!(locked.status_reason.contains("FinancialLocked"), "{}", locked.status_reason);
    let seen = wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::FinancialLocked).await;
    assert!(seen.status_reason.contains("not forwarding"), "{}", seen.status_reason);
    for (svc, path) in [(&a, &from_a), (&b, &from_b)] {
        let answer = path.check(svc).await;
        assert!(!answer.reachable && answer.reason.contains("FinancialLocked"), "{answer:?}");
    }
    let hours_charged = orders(&a, pb::OrderType::Usage).await.len();
    assert_eq!(hours_charged, 27, "an hour is charged at each whole hour until the lock");
    refused(
        "suspend",
        suspend(&a, &ends.initiator).await.map(tonic::Response::new),
        PRECONDITION,
        "Forbidden.FinancialLocked",
        None,
    );
    refused(
        "upgrade",
        modify_spec(&a, &ends.initiator, "Small.2").await,
        PRECONDITION,
        "Forbidden.FinancialLocked",
        None,
    );
    refused(
        "create while locked",
        ris.create_peering_connection(another.clone()).await,
        PRECONDITION,
        "Forbidden.BillsOutstanding",
        None,
    );
    advance(&a, 5 * HOUR).await;
    assert_eq!(orders(&a, pb::OrderType::Usage).await.len(), hours_charged, "a locked end is not charged");

    // Paying unlocks it; both sides agree again, and the hourly charge resumes.
    top_up(&a, "100").await;
    assert!(!balance(&a).await.overdue);
    assert_eq!(end(&a, &ends.initiator).await.business_status(), pb::BusinessStatus::Normal);
    wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::Normal).await;
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated));
    assert_eq!(i.status_reason, "connected; forwarding");
    assert!(from_a.check(&a).await.reachable && from_b.check(&b).await.reachable, "forwarding resumed");
    advance(&a, HOUR + MINUTE).await;
    assert_eq!(orders(&a, pb::OrderType::Usage).await.len(), hours_charged + 1);
    ris.create_peering_connection(another).await.expect("buying works again once paid");
}

#[tokio::test]
async fn an_expired_subscription_locks_after_24_hours_and_a_renewal_unlocks_both_sides() {
    let (a, b, ends) = connected(&Flags::default(), &subscription(1, false)).await;
    let end_time = time(&end(&a, &ends.initiator).await.end_time);

    advance_to(&a, end_time + chrono::Duration::seconds(24 * HOUR - MINUTE)).await;
    let expired = end(&a, &ends.initiator).await;
    assert_eq!(time(&expired.overdue_since), end_time, "overdue from the end time");
    assert_eq!(expired.business_status(), pb::BusinessStatus::Normal, "23 h 59 min is not more than 24 hours");
    // Suspend and activate still work while not locked.
    suspend(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    activate(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;

    advance(&a, 2 * MINUTE).await;
    assert_eq!(end(&a, &ends.initiator).await.business_status(), pb::BusinessStatus::FinancialLocked);
    wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::FinancialLocked).await;
    refused(
        "suspend",
        suspend(&a, &ends.initiator).await.map(tonic::Response::new),
        PRECONDITION,
        "Forbidden.FinancialLocked",
        None,
    );
    // A renewal of an expired subscription starts now and lifts the lock on both sides.
    let renewed = renew(&a, &ends.initiator, 1, "").await.unwrap();
    let paid_at = now(&a).await;
    let new_end = time(&renewed.end_time);
    assert!((new_end - paid_at.checked_add_months(chrono::Months::new(1)).unwrap()).num_seconds().abs() < 60);
    let renewal = orders(&a, pb::OrderType::Renew).await;
    assert_eq!(renewal.len(), 1);
    assert_eq!(renewal[0].amount, money(SMALL_1));
    let unlocked = end(&a, &ends.initiator).await;
    assert_eq!(unlocked.business_status(), pb::BusinessStatus::Normal);
    assert!(unlocked.overdue_since.is_empty());
    wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::Normal).await;
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!(i.status(), pb::Status::Activated);
}

#[tokio::test]
async fn auto_renew_fires_once_per_cycle_in_order_when_the_clock_jumps_over_three_cycles() {
    let (a, b, ends) = connected(&Flags::default(), &subscription(1, true)).await;
    let first_end = time(&end(&a, &ends.initiator).await.end_time);
    // Each renewal moves the end time one period on from where it was: a day the month lacks becomes its
    // last (Dec 29 -> Jan 29 -> Feb 28 -> Mar 28), so the ends are not all the first one plus n months.
    let cycle_ends: Vec<DateTime<Utc>> =
        std::iter::successors(Some(first_end), |at| Some(at.checked_add_months(chrono::Months::new(1)).unwrap()))
            .skip(1)
            .take(3)
            .collect();

    // One jump over three end times (and a day more).
    let fired = advance_to(&a, cycle_ends[1] + chrono::Duration::days(1)).await;
    assert_eq!(fired, 3, "three auto-renewals, nothing else");
    let renewals = orders(&a, pb::OrderType::AutoRenew).await;
    let starts: Vec<DateTime<Utc>> = renewals.iter().map(|o| time(&o.start_time)).collect();
    assert_eq!(starts, vec![first_end, cycle_ends[0], cycle_ends[1]], "one renewal at each end time, in order");
    assert!(renewals.iter().all(|o| o.amount == money(SMALL_1)));
    let balances: Vec<i64> = renewals.iter().map(|o| cents(&o.balance_after)).collect();
    assert!(balances.windows(2).all(|w| w[1] == w[0] - SMALL_1), "{balances:?}");
    let renewed = end(&a, &ends.initiator).await;
    assert_eq!(time(&renewed.end_time), cycle_ends[2]);
    assert!(renewed.overdue_since.is_empty());
    assert_eq!(renewed.business_status(), pb::BusinessStatus::Normal);

    // Jumping again fires nothing twice.
    assert_eq!(advance(&a, HOUR).await, 0);
    assert_eq!(orders(&a, pb::OrderType::AutoRenew).await.len(), 3);
    wait_agreement(&a, &b, &ends, SETTLE).await;
}

#[tokio::test]
async fn auto_renew_without_the_money_leaves_the_subscription_overdue_until_a_top_up() {
    // Buying one month of Small.1 leaves 20.00: not enough to renew.
    let flags = Flags { initial_balance: Some("300"), ..Flags::default() };
    let (a, b, ends) = connected(&flags, &subscription(1, true)).await;
    let end_time = time(&end(&a, &ends.initiator).await.end_time);

    advance_to(&a, end_time + chrono::Duration::days(2)).await;
    assert!(orders(&a, pb::OrderType::AutoRenew).await.is_empty());
    let overdue = end(&a, &ends.initiator).await;
    assert_eq!(time(&overdue.overdue_since), end_time);
    assert_eq!(overdue.business_status(), pb::BusinessStatus::FinancialLocked);
    wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::FinancialLocked).await;

    // The top-up pays the renewal (from now) and unlocks it.
    top_up(&a, "1000").await;
    assert_eq!(orders(&a, pb::OrderType::AutoRenew).await.len(), 1);
    assert_eq!(balance(&a).await.available_amount, money(2_000 + 100_000 - SMALL_1));
    assert_eq!(end(&a, &ends.initiator).await.business_status(), pb::BusinessStatus::Normal);
    wait_opposite_business(&b, &ends.acceptor, pb::BusinessStatus::Normal).await;
}

#[tokio::test]
async fn a_renewal_with_a_new_bandwidth_takes_effect_at_the_next_cycle_on_both_sides() {
    let (a, b, ends) = connected(&Flags::default(), &subscription(1, false)).await;
    let end_time = time(&end(&a, &ends.initiator).await.end_time);

    let renewed = renew(&a, &ends.initiator, 2, "Small.2").await.unwrap();
    assert_eq!(time(&renewed.end_time), end_time.checked_add_months(chrono::Months::new(2)).unwrap());
    let order = orders(&a, pb::OrderType::Renew).await.pop().unwrap();
    assert_eq!((order.amount.as_str(), order.spec.as_str()), (money(2 * SMALL_2).as_str(), "Small.2"));
    assert_eq!((order.period, order.pricing_cycle()), (2, pb::PricingCycle::Month));
    assert_eq!(time(&order.start_time), end_time);
    let reserved = end(&a, &ends.initiator).await;
    assert!(reserved.has_reservation_data);
    assert_eq!((reserved.spec.as_str(), reserved.reservation_spec.as_str()), ("Small.1", "Small.2"));
    assert_eq!((reserved.reservation_bandwidth, reserved.reservation_order_type.as_str()), (20, "RENEWCHANGE"));
    assert_eq!(time(&reserved.reservation_active_time), end_time);
    assert_eq!(end(&b, &ends.acceptor).await.opposite_interface_spec, "Small.1");
    refused(
        "a second change while one waits",
        renew(&a, &ends.initiator, 1, "Small.5").await.map(tonic::Response::new),
        PRECONDITION,
        "INSTANCE_HAS_INACTIVE_CHANGE",
        None,
    );

    advance_to(&a, end_time - chrono::Duration::seconds(MINUTE)).await;
    assert_eq!(end(&a, &ends.initiator).await.spec, "Small.1", "not before the next cycle");
    advance(&a, 2 * MINUTE).await;
    let changed = end(&a, &ends.initiator).await;
    assert_eq!((changed.spec.as_str(), changed.bandwidth, changed.has_reservation_data), ("Small.2", 20, false));
    assert!(changed.overdue_since.is_empty(), "the renewal paid for this cycle");
    let seen =
        wait_for(&b, &ends.acceptor, SETTLE, "opposite Small.2", |ri| ri.opposite_interface_spec == "Small.2").await;
    assert_eq!(seen.opposite_bandwidth, 20);
    wait_agreement(&a, &b, &ends, SETTLE).await;
}

#[tokio::test]
async fn an_upgrade_is_pro_rated_now_seen_by_the_acceptor_and_a_downgrade_waits_for_a_renewal() {
    let (a, b, ends) = connected(&Flags::default(), &subscription(1, false)).await;
    let before = cents(&balance(&a).await.available_amount);

    let changed = modify_spec(&a, &ends.initiator, "Small.2").await.unwrap().into_inner();
    assert_eq!((changed.spec.as_str(), changed.bandwidth), ("Small.2", 20));
    let order = orders(&a, pb::OrderType::Upgrade).await.pop().unwrap();
    assert_eq!(order.order_id, changed.order_id);
    let remaining = (time(&order.end_time) - time(&order.start_time)).num_seconds();
    let month = 30 * 24 * HOUR;
    let expected = ((SMALL_2 - SMALL_1) * remaining * 2 + month) / (2 * month);
    assert_eq!(order.amount, money(expected), "the price difference for the {remaining} s left of the period");
    assert_eq!(cents(&balance(&a).await.available_amount), before - expected);
    let seen =
        wait_for(&b, &ends.acceptor, SETTLE, "opposite Small.2", |ri| ri.opposite_interface_spec == "Small.2").await;
    assert_eq!(seen.opposite_bandwidth, 20);
    wait_agreement(&a, &b, &ends, SETTLE).await;

    refused(
        "downgrade",
        modify_spec(&a, &ends.initiator, "Mini.2").await,
        BAD,
        "OperationUnsupported.Downgrade",
        Some("spec"),
    );
    refused("same spec", modify_spec(&a, &ends.initiator, "Small.2").await, BAD, "InvalidParameter", Some("spec"));
    refused("no such spec", modify_spec(&a, &ends.initiator, "Huge.1").await, BAD, "InvalidSpec", Some("spec"));
    refused(
        "the acceptor end",
        modify_spec(&b, &ends.acceptor, "Small.5").await,
        PRECONDITION,
        "IncorrectRole.NotInitiatingSide",
        None,
    );
    suspend(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    refused("suspended", modify_spec(&a, &ends.initiator, "Small.5").await, PRECONDITION, "IncorrectStatus", None);
}

#[tokio::test]
async fn pay_as_you_go_changes_bandwidth_both_ways_and_pays_by_the_hour_at_the_new_spec() {
    let (a, b, ends) = connected(&Flags::default(), &pay_as_you_go()).await;
    advance(&a, 30 * MINUTE).await;
    let down = modify_spec(&a, &ends.initiator, "Mini.2").await.unwrap().into_inner();
    assert_eq!(down.bandwidth, 2);
    let order = orders(&a, pb::OrderType::Downgrade).await.pop().unwrap();
    assert_eq!(order.amount, "0.00");
    // The part of the hour before the change is paid at the old spec, by the second.
    let part = orders(&a, pb::OrderType::Usage).await.pop().unwrap();
    let part_seconds = (time(&part.end_time) - time(&part.start_time)).num_seconds();
    assert!((30 * MINUTE..31 * MINUTE).contains(&part_seconds), "{part:?}");
    let small_1_hour = (SMALL_1 + 360) / 720;
    let expected = (small_1_hour * part_seconds * 2 + HOUR) / (2 * HOUR);
    assert_eq!((part.spec.as_str(), part.amount.as_str()), ("Small.1", money(expected).as_str()));
    wait_for(&b, &ends.acceptor, SETTLE, "opposite Mini.2", |ri| ri.opposite_interface_spec == "Mini.2").await;
    advance(&a, HOUR + MINUTE).await;
    let hour = orders(&a, pb::OrderType::Usage).await.pop().unwrap();
    assert_eq!((hour.spec.as_str(), hour.amount.as_str()), ("Mini.2", money((6_000 + 360) / 720).as_str()));
}

#[tokio::test]
async fn a_restart_mid_period_keeps_balances_orders_and_the_schedule_exact() {
    let (dir_a, dir_b) = (TempDir::new(), TempDir::new());
    let (a, b) = start_pair(&Flags::default(), Some(dir_a.path()), Some(dir_b.path())).await;
    let hourly = prepare_connection_with(&a, &b, ACCOUNT_B, &pay_as_you_go()).await;
    let monthly = prepare_connection_with(&a, &b, ACCOUNT_B, &subscription(1, true)).await;
    let created = time(&end(&a, &hourly.initiator).await.creation_time);
    let end_time = time(&end(&a, &monthly.initiator).await.end_time);

    advance_to(&a, created + chrono::Duration::seconds(10 * HOUR + 30 * MINUTE)).await;
    let before = (balance(&a).await, orders(&a, pb::OrderType::Unspecified).await);
    assert_eq!(before.1.iter().filter(|o| o.order_type() == pb::OrderType::Usage).count(), 10);
    let clock_before = now(&a).await;

    // A graceful restart, then a kill -9: nothing is lost, nothing fires twice, the clock keeps its offset.
    let a = a.restart().await;
    assert_eq!((balance(&a).await, orders(&a, pb::OrderType::Unspecified).await), before);
    assert!(now(&a).await >= clock_before);
    let a = a.kill().await.start().await;
    assert_eq!((balance(&a).await, orders(&a, pb::OrderType::Unspecified).await), before);

    // The next hour is charged exactly once, from where the last one stopped; the renewal comes at its time.
    advance(&a, HOUR).await;
    let usage = orders(&a, pb::OrderType::Usage).await;
    assert_eq!(usage.len(), 11);
    assert_eq!(time(&usage[10].start_time), created + chrono::Duration::hours(10));
    advance_to(&a, end_time + chrono::Duration::seconds(MINUTE)).await;
    let renewals = orders(&a, pb::OrderType::AutoRenew).await;
    assert_eq!(renewals.len(), 1);
    assert_eq!(time(&renewals[0].start_time), end_time);
    let a = a.kill().await.start().await;
    assert_eq!(orders(&a, pb::OrderType::AutoRenew).await.len(), 1);
    drop(b);
}

#[tokio::test]
async fn bad_billing_input_is_refused_with_the_field_and_the_rule() {
    let flags = Flags { initial_balance: Some("100"), ..Flags::default() };
    let (a, b) = start_pair(&flags, None, None).await;
    let mut billing = a.billing().await;
    for bad in ["abc", "-5", "0", "1.234", ""] {
        let request = pb::TopUpAccountRequest { amount: bad.into(), ..Default::default() };
        refused(
            &format!("top up {bad:?}"),
            billing.top_up_account(request).await,
            BAD,
            "InvalidParameter",
            Some("amount"),
        );
    }
    let mut simulation = a.simulation().await;
    refused(
        "no duration",
        simulation.advance_clock(pb::AdvanceClockRequest::default()).await,
        BAD,
        "MissingParameter",
        Some("by"),
    );
    for by in [-HOUR, 0, 3661 * 24 * HOUR] {
        let request = pb::AdvanceClockRequest { by: Some(seconds(by)), ..Default::default() };
        refused(&format!("advance {by}"), simulation.advance_clock(request).await, BAD, "InvalidParameter", Some("by"));
    }
    let request = pb::DescribeOrdersRequest { page_size: 51, ..Default::default() };
    refused("page size", billing.describe_orders(request).await, BAD, "InvalidParameter", Some("page_size"));

    // Not enough money for a subscription: refused, nothing bought, nothing created.
    let ends_before = scenario_tests::fixtures::count_router_interfaces(&mut a.router_interfaces().await).await;
    let (mut vpcs, mut ris) = (a.vpcs().await, a.router_interfaces().await);
    let (vpc, _) = create_vpc(&mut vpcs, "cn-hangzhou", "172.16.0.0/12").await;
    let request = initiator_only(&vpc, &subscription(1, false));
    refused(
        "too expensive",
        ris.create_peering_connection(request).await,
        PRECONDITION,
        "PAY.INSUFFICIENT_BALANCE",
        None,
    );
    assert_eq!(balance(&a).await.available_amount, "100.00");
    assert!(orders(&a, pb::OrderType::Unspecified).await.is_empty());
    assert_eq!(scenario_tests::fixtures::count_router_interfaces(&mut ris).await, ends_before);

    // Renewal applies to a subscription initiator only, with a valid period.
    let hourly = prepare_connection_with(&a, &b, ACCOUNT_B, &pay_as_you_go()).await;
    refused(
        "renew pay-as-you-go",
        renew(&a, &hourly.initiator, 1, "").await.map(tonic::Response::new),
        PRECONDITION,
        "OperationUnsupported.PostPaid",
        None,
    );
    refused(
        "renew the acceptor end",
        renew(&b, &hourly.acceptor, 1, "").await.map(tonic::Response::new),
        PRECONDITION,
        "IncorrectRole.NotInitiatingSide",
        None,
    );
    top_up(&a, "1000").await;
    let monthly = prepare_connection_with(&a, &b, ACCOUNT_B, &subscription(1, false)).await;
    refused(
        "ten months",
        renew(&a, &monthly.initiator, 10, "").await.map(tonic::Response::new),
        BAD,
        "InvalidPeriod",
        Some("period"),
    );
    refused(
        "no such spec",
        renew(&a, &monthly.initiator, 1, "Huge.1").await.map(tonic::Response::new),
        BAD,
        "InvalidSpec",
        Some("spec"),
    );
}
