//! The router interface state machine, as pure functions on one end. The same transitions are driven
//! whether the other end lives in this account (the same-account path) or behind the peer link.
//!
//! Each end owns one intent: whether its owner holds the connection suspended. Ends exchange full
//! snapshots ([`EndReport`]); an end's status follows from its own intent, the other end's intent, and
//! whether both have confirmed each other's latest intent, so reports may repeat, arrive late or be lost
//! and resent without changing the outcome.

use chrono::{DateTime, Utc};

use super::error::{DomainError, DomainResult};
use super::model::{BusinessStatus, EndReport, Link, OppositeConfig, Role, RouterInterface, Status};

/// What an initiator sends when it connects: itself, and the end it names as its opposite.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectRequest {
    pub initiator: EndReport,
    pub names: OppositeConfig,
}

/// How applying a report changed an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Stale or duplicate: nothing changed.
    Ignored,
    /// Only this end's view of the other end changed: persist, nothing to tell the other end.
    ViewChanged,
    /// This end's own report changed: persist, then tell the other end.
    Changed,
}

/// Checks that `end` may start a connection and moves it to Connecting.
pub fn begin_connect(end: &mut RouterInterface) -> DomainResult<()> {
    if end.role != Role::InitiatingSide {
        return Err(DomainError::precondition(
            "IncorrectRole.NotInitiatingSide",
            format!("{} is an acceptor end; only the initiator end can connect", end.router_interface_id),
        ));
    }
    if end.status != Status::Idle {
        return Err(DomainError::precondition(
            "IncorrectStatus",
            format!(
                "{} is {:?}; a connection can be initiated only when its status is Idle",
                end.router_interface_id, end.status
            ),
        ));
    }
    if let Some(field) = end.opposite.missing_for_connect() {
        return Err(DomainError::precondition(
            "IncorrectOppositeInterfaceInfo.NotSet",
            format!(
                "{} has no {field}; set it with ModifyRouterInterfaceAttribute before connecting",
                end.router_interface_id
            ),
        ));
    }
    if end.business_status == BusinessStatus::FinancialLocked {
        return Err(DomainError::precondition(
            "Forbidden.FinancialLocked",
            format!("{} is locked for an overdue payment; pay to connect it", end.router_interface_id),
        ));
    }
    end.status = Status::Connecting;
    end.last_error = None;
    end.version += 1;
    Ok(())
}

/// The acceptor's consent: admits `request` on `acceptor` only if every precondition holds on this side.
pub fn admit(acceptor: &mut RouterInterface, request: &ConnectRequest, now: DateTime<Utc>) -> DomainResult<()> {
    check_admission(acceptor, request)?;
    // Both ends begin linked with intent 1, not suspended, and the connect itself says so of the initiator:
    // it asks for an active connection (its intent 1) knowing this end begins active (seen 1). So the
    // initiator is Activated as soon as it hears of this admission, and this end as soon as it hears that
    // (the seed's Connecting, Accepting, Activated, Activated), without a round of echoes in between.
    let mut opposite = request.initiator.clone();
    opposite.intent_version = opposite.intent_version.max(1);
    opposite.seen_intent_version = opposite.seen_intent_version.max(1);
    acceptor.link = Some(Box::new(Link { own_suspended: false, intent_version: 1, settled_suspended: None, opposite }));
    acceptor.connected_time = Some(now);
    acceptor.last_error = None;
    acceptor.last_opposite_status = Some(request.initiator.status);
    recompute(acceptor);
    acceptor.version += 1;
    Ok(())
}

fn check_admission(acceptor: &RouterInterface, request: &ConnectRequest) -> DomainResult<()> {
    let initiator = &request.initiator;
    let id = &acceptor.router_interface_id;
    let wrong = |what: String| DomainError::precondition("IncorrectOppositeInterfaceInfo", what);
    if acceptor.role != Role::AcceptingSide {
        return Err(wrong(format!("{id} is an initiator end; connect to the acceptor end")));
    }
    if request.names.interface_id != *id || request.names.router_id != acceptor.router_id {
        return Err(wrong(format!(
            "the initiator names router {} / interface {}, but {id} is on router {}",
            request.names.router_id, request.names.interface_id, acceptor.router_id
        )));
    }
    if request.names.router_type != Some(acceptor.router_type) {
        return Err(wrong(format!("the initiator names the wrong opposite_router_type for {id}")));
    }
    if acceptor.status != Status::Idle {
        return Err(DomainError::precondition(
            "IncorrectRIStatus",
            format!(
                "the acceptor end {id} is {:?}; it accepts a connection only when its status is Idle",
                acceptor.status
            ),
        ));
    }
    if let Some(field) = acceptor.opposite.missing_for_connect() {
        return Err(DomainError::precondition(
            "IncorrectOppositeInterfaceInfo.NotSet",
            format!("the acceptor end {id} has no {field}; its owner must set it to name the initiator"),
        ));
    }
    if acceptor.opposite.owner_id != initiator.owner_id {
        return Err(DomainError::precondition(
            "Forbbiden.InvaildOwner",
            format!(
                "the acceptor end {id} names account {} as its opposite owner, not {}",
                acceptor.opposite.owner_id, initiator.owner_id
            ),
        ));
    }
    if acceptor.opposite.router_id != initiator.router_id
        || acceptor.opposite.interface_id != initiator.interface_id
        || acceptor.opposite.router_type != Some(initiator.router_type)
    {
        return Err(wrong(format!(
            "the acceptor end {id} names router {} / interface {}, not the initiator's router {} / interface {}",
            acceptor.opposite.router_id, acceptor.opposite.interface_id, initiator.router_id, initiator.interface_id
        )));
    }
    if request.names.region_id != acceptor.region_id || acceptor.opposite.region_id != initiator.region_id {
        return Err(wrong(format!(
            "the regions do not match: the initiator names {} for {id}, which is in {}; {id} names {} for the \
             initiator, which is in {}",
            request.names.region_id, acceptor.region_id, acceptor.opposite.region_id, initiator.region_id
        )));
    }
    if acceptor.router_id == initiator.router_id && acceptor.owner_id == initiator.owner_id {
        return Err(wrong("Cannot connect on the same router".to_owned()));
    }
    Ok(())
}

/// A connect that the acceptor refused or that timed out: back to Idle, saying why.
pub fn fail_connect(end: &mut RouterInterface, why: &DomainError) {
    if end.awaits_admission() {
        end.status = Status::Idle;
        end.last_error = Some(Box::new(why.clone()));
        end.version += 1;
    }
}

/// Applies the other end's report. The caller persists when the result is not `Ignored`, and sends this
/// end's report when it is `Changed`.
pub fn apply_report(end: &mut RouterInterface, report: &EndReport, now: DateTime<Utc>) -> Applied {
    if changes_nothing(end, report) {
        return Applied::Ignored;
    }
    if report.deleted {
        return apply_deletion(end, report);
    }
    if abandons(end, report) {
        let why = DomainError::precondition(
            "IncorrectRIStatus",
            format!("the other end {} is no longer connected to this end", report.interface_id),
        );
        unlink(end, report.status);
        end.last_error = Some(Box::new(why));
        return Applied::Changed;
    }
    let before = progress(end);
    #[cfg(debug_assertions)]
    let content_before = content(end);
    match &mut end.link {
        Some(link) => {
            // `changes_nothing` let through only newer news of the linked end.
            debug_assert!(link.opposite.interface_id == report.interface_id && report.version > link.opposite.version);
            link.opposite = report.clone();
        }
        // Not linked: `changes_nothing` let through only the acceptor's admission of this initiator. The
        // connection now exists on this side too.
        None => {
            debug_assert!(admits(end, report), "{report:?} does not admit {}", end.router_interface_id);
            end.link = Some(Box::new(Link {
                own_suspended: false,
                intent_version: 1,
                settled_suspended: None,
                opposite: report.clone(),
            }));
            end.connected_time = Some(now);
        }
    }
    end.last_opposite_status = Some(report.status);
    recompute(end);
    #[cfg(debug_assertions)]
    assert_eq!(progress(end) == before, content(end) == content_before, "progress misses a change");
    if progress(end) == before {
        Applied::ViewChanged
    } else {
        end.version += 1;
        Applied::Changed
    }
}

/// Whether applying `report` to `end` would change nothing, so that a caller need not even copy the end:
/// it comes from an end this one is not linked to and does not admit its connect, or this end has applied
/// it (or a newer one) already. A resync repeats mostly such reports.
pub fn changes_nothing(end: &RouterInterface, report: &EndReport) -> bool {
    match &end.link {
        Some(link) => {
            link.opposite.interface_id != report.interface_id
                || (!report.deleted && report.version <= link.opposite.version)
        }
        None => report.deleted || !admits(end, report),
    }
}

/// Whether `report` is the acceptor's answer to the connect `end` (an initiator end, not linked yet) is
/// waiting for.
fn admits(end: &RouterInterface, report: &EndReport) -> bool {
    end.status == Status::Connecting
        && end.opposite.interface_id == report.interface_id
        && report.partner_interface_id == end.router_interface_id
}

/// A newer report from the linked end saying it is not connected to this end (it timed out, or was refused,
/// while this end admitted it): the connection will never complete. A connect request (resent after a
/// reconnect) is the one report of a linked end that does not name its partner yet.
fn abandons(end: &RouterInterface, report: &EndReport) -> bool {
    end.link.as_ref().is_some_and(|l| {
        l.opposite.interface_id == report.interface_id
            && report.version > l.opposite.version
            && report.partner_interface_id != end.router_interface_id
            && report.status != Status::Connecting
    })
}

fn apply_deletion(end: &mut RouterInterface, report: &EndReport) -> Applied {
    let linked = end.link.as_ref().is_some_and(|l| l.opposite.interface_id == report.interface_id);
    if !linked {
        return Applied::Ignored;
    }
    unlink(end, Status::Deleted);
    Applied::Changed
}

/// The connection is gone: back to Idle, ready to be connected again.
fn unlink(end: &mut RouterInterface, opposite_status: Status) {
    end.link = None;
    end.connected_time = None;
    end.status = Status::Idle;
    end.last_opposite_status = Some(opposite_status);
    end.version += 1;
}

/// This end's report without its version: what the other end must hear about when it changes.
#[cfg(debug_assertions)]
fn content(end: &RouterInterface) -> EndReport {
    EndReport { version: 0, ..end.report() }
}

/// The fields of this end's report that applying the other end's report may change (the rest is this
/// end's configuration, which it leaves alone): `content` compared without building the report twice,
/// its strings and all, for every report a resync applies. Debug builds check the two agree.
fn progress(end: &RouterInterface) -> Progress {
    Progress {
        status: end.status,
        business_status: end.business_status,
        link: end.link.as_ref().map(|link| {
            (link.own_suspended, link.intent_version, link.opposite.intent_version, link.opposite.seen_intent_version)
        }),
    }
}

/// See [`progress`]. The link's: its owner's suspension and intent, and the intents it has heard.
#[derive(PartialEq)]
struct Progress {
    status: Status,
    business_status: BusinessStatus,
    link: Option<(bool, u64, u64, u64)>,
}

/// The owner suspends its end (Deactivate). Allowed on an established connection: Activated, while the
/// other owner activates or suspends it, and when the other owner already holds it Suspended (the caller
/// then holds it suspended too).
pub fn suspend(end: &mut RouterInterface) -> DomainResult<()> {
    check_not_financially_locked(end)?;
    let id = end.router_interface_id.clone();
    let status = end.status;
    let Some(link) = end
        .link
        .as_mut()
        .filter(|_| matches!(status, Status::Activated | Status::Activating | Status::Suspended | Status::Suspending))
    else {
        return Err(DomainError::precondition(
            "IncorrectStatus",
            format!("{id} is {status:?}; only an Activated connection can be suspended"),
        ));
    };
    if link.own_suspended {
        return Ok(());
    }
    link.own_suspended = true;
    link.intent_version += 1;
    recompute(end);
    end.version += 1;
    Ok(())
}

/// The owner activates its end: lifts its own suspension only.
pub fn activate(end: &mut RouterInterface) -> DomainResult<()> {
    check_not_financially_locked(end)?;
    let id = end.router_interface_id.clone();
    let status = end.status;
    let Some(link) = end.link.as_mut().filter(|_| matches!(status, Status::Suspended | Status::Suspending)) else {
        return Err(DomainError::precondition(
            "IncorrectStatus",
            format!("{id} is {status:?}; only a Suspended connection can be activated"),
        ));
    };
    if !link.own_suspended {
        return Err(DomainError::precondition(
            "IncorrectStatus",
            format!(
                "{id} is suspended by account {} (the other end's owner); only that account can activate it",
                link.opposite.owner_id
            ),
        ));
    }
    link.own_suspended = false;
    link.intent_version += 1;
    recompute(end);
    end.version += 1;
    Ok(())
}

fn check_not_financially_locked(end: &RouterInterface) -> DomainResult<()> {
    if end.business_status == BusinessStatus::FinancialLocked {
        return Err(DomainError::precondition(
            "Forbidden.FinancialLocked",
            format!("{} is locked for an overdue payment", end.router_interface_id),
        ));
    }
    Ok(())
}

/// Delete is allowed only when Idle or Suspended.
pub fn check_delete(end: &RouterInterface) -> DomainResult<()> {
    if matches!(end.status, Status::Idle | Status::Suspended) {
        Ok(())
    } else {
        Err(DomainError::precondition(
            "IncorrectStatus",
            format!(
                "{} is {:?}; only an Idle or Suspended end can be deleted (suspend it first)",
                end.router_interface_id, end.status
            ),
        ))
    }
}

/// The report that tells the other end this end is gone.
pub fn deletion_report(end: &RouterInterface) -> EndReport {
    EndReport { deleted: true, status: Status::Deleted, version: end.version + 1, ..end.report() }
}

/// Derives the status of a connected end from both intents and both confirmations.
fn recompute(end: &mut RouterInterface) {
    let role = end.role;
    let Some(link) = end.link.as_mut() else {
        return;
    };
    let suspended = link.own_suspended || link.opposite.own_suspended;
    let mine_pending = link.opposite.seen_intent_version < link.intent_version;
    let theirs_pending = link.opposite.echoed_intent_version < link.opposite.intent_version;
    let stable = |suspended: bool| {
        if suspended { Status::Suspended } else { Status::Activated }
    };
    end.status = if !(mine_pending || theirs_pending) {
        link.settled_suspended = Some(suspended);
        stable(suspended)
    } else {
        match link.settled_suspended {
            None if role == Role::InitiatingSide => Status::Connecting,
            None => Status::Accepting,
            Some(settled) if settled == suspended => stable(settled),
            Some(_) if suspended => Status::Suspending,
            Some(_) => Status::Activating,
        }
    };
}

/// Delivers reports between two ends that live in one account until neither has news; `observe` sees
/// the pair of statuses after every delivery.
pub fn exchange(
    a: &mut RouterInterface,
    b: &mut RouterInterface,
    now: DateTime<Utc>,
    mut observe: impl FnMut(&RouterInterface, &RouterInterface),
) {
    // Each delivery either changes an end's own report or ends the exchange, and reports only
    // grow towards agreement, so a handful of rounds suffice; the bound guards against a bug looping.
    for _ in 0..16 {
        let to_b = apply_report(b, &a.report(), now);
        observe(a, b);
        let to_a = apply_report(a, &b.report(), now);
        observe(a, b);
        if to_b != Applied::Changed && to_a != Applied::Changed {
            return;
        }
    }
    tracing::error!(a = %a.router_interface_id, b = %b.router_interface_id, "ends did not settle");
}

/// Why the end is in its status, in words.
pub fn status_reason(end: &RouterInterface) -> String {
    let suspended_by = end.suspended_by();
    let opposite_locked =
        end.link.as_ref().is_some_and(|l| l.opposite.business_status == BusinessStatus::FinancialLocked);
    match end.status {
        _ if end.business_status == BusinessStatus::FinancialLocked => {
            "FinancialLocked: overdue for more than 24 hours, not forwarding until paid (RenewInstance or TopUpAccount)"
                .to_owned()
        }
        Status::Activated if opposite_locked => {
            "connected, but not forwarding: the initiator end is FinancialLocked for an overdue payment".to_owned()
        }
        Status::Idle if end.last_opposite_status == Some(Status::Deleted) => {
            "the other end was deleted; this end is Idle and can be connected again".to_owned()
        }
        Status::Idle => match &end.last_error {
            Some(e) => format!("not connected; the last connect failed: {e}"),
            None => "not connected".to_owned(),
        },
        Status::Suspended | Status::Suspending if !suspended_by.is_empty() => {
            format!("suspended by account {}", suspended_by.join(" and account "))
        }
        Status::Connecting => "waiting for the acceptor end to admit the connection".to_owned(),
        Status::Accepting => "waiting for the initiator end to confirm the connection".to_owned(),
        Status::Activating => "waiting for the other end to confirm the activation".to_owned(),
        Status::Activated => "connected; forwarding".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(id: &str, owner: &str, router: &str, role: Role) -> RouterInterface {
        RouterInterface::sample(id, owner, router, role)
    }

    fn names(e: &RouterInterface) -> OppositeConfig {
        OppositeConfig {
            region_id: e.region_id.clone(),
            router_id: e.router_id.clone(),
            router_type: Some(e.router_type),
            interface_id: e.router_interface_id.clone(),
            owner_id: e.owner_id.clone(),
            access_point_id: String::new(),
        }
    }

    fn pair() -> (RouterInterface, RouterInterface) {
        let mut a = end("ri-a", "1000000000000001", "vrt-a", Role::InitiatingSide);
        let mut b = end("ri-b", "1000000000000002", "vrt-b", Role::AcceptingSide);
        a.opposite = names(&b);
        b.opposite = names(&a);
        (a, b)
    }

    /// Delivers reports both ways until neither end has news, recording every status pair seen.
    fn settle(a: &mut RouterInterface, b: &mut RouterInterface, seen: &mut Vec<(Status, Status)>) {
        exchange(a, b, DateTime::default(), |a, b| seen.push((a.status, b.status)));
        assert_eq!(apply_report(b, &a.report(), DateTime::default()), Applied::Ignored, "settled: {seen:?}");
        assert_eq!(apply_report(a, &b.report(), DateTime::default()), Applied::Ignored, "settled: {seen:?}");
    }

    fn connect(a: &mut RouterInterface, b: &mut RouterInterface) -> Vec<(Status, Status)> {
        begin_connect(a).unwrap();
        let request = ConnectRequest { initiator: a.report(), names: a.opposite.clone() };
        admit(b, &request, DateTime::default()).unwrap();
        let mut seen = vec![(a.status, b.status)];
        settle(a, b, &mut seen);
        seen
    }

    #[test]
    fn connect_passes_through_connecting_and_accepting() {
        let (mut a, mut b) = pair();
        let seen = connect(&mut a, &mut b);
        assert!(seen.contains(&(Status::Connecting, Status::Accepting)), "{seen:?}");
        assert_eq!((a.status, b.status), (Status::Activated, Status::Activated));
        assert_eq!(a.last_opposite_status, Some(Status::Activated));
        assert_eq!(b.last_opposite_status, Some(Status::Activated));
    }

    #[test]
    fn connect_takes_the_seed_four_steps_and_no_more() {
        let (mut a, mut b) = pair();
        let versions = (a.version, b.version);
        let mut seen = connect(&mut a, &mut b);
        seen.dedup();
        let expected = [
            (Status::Connecting, Status::Accepting),
            (Status::Activated, Status::Accepting),
            (Status::Activated, Status::Activated),
        ];
        assert_eq!(seen, expected);
        // Each end changes twice (a commit each on its side): no round of echoes between the four steps.
        assert_eq!((a.version, b.version), (versions.0 + 2, versions.1 + 2));
    }

    #[test]
    fn suspend_and_activate_pass_through_the_seed_table() {
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        suspend(&mut a).unwrap();
        assert_eq!(a.status, Status::Suspending);
        let mut seen = Vec::new();
        settle(&mut a, &mut b, &mut seen);
        assert!(seen.contains(&(Status::Suspending, Status::Suspending)), "{seen:?}");
        assert_eq!((a.status, b.status), (Status::Suspended, Status::Suspended));
        activate(&mut a).unwrap();
        assert_eq!(a.status, Status::Activating);
        seen.clear();
        settle(&mut a, &mut b, &mut seen);
        assert!(seen.contains(&(Status::Activating, Status::Activating)), "{seen:?}");
        assert_eq!((a.status, b.status), (Status::Activated, Status::Activated));
    }

    #[test]
    fn only_the_suspending_owner_can_activate() {
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        suspend(&mut b).unwrap();
        settle(&mut a, &mut b, &mut Vec::new());
        let err = activate(&mut a).unwrap_err();
        assert_eq!(err.reason, "IncorrectStatus");
        assert!(err.message.contains("1000000000000002"), "{}", err.message);
        assert_eq!(a.suspended_by(), vec!["1000000000000002".to_owned()]);
    }

    #[test]
    fn both_suspend_then_one_activates_stays_suspended() {
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        suspend(&mut a).unwrap();
        suspend(&mut b).unwrap();
        settle(&mut a, &mut b, &mut Vec::new());
        activate(&mut a).unwrap();
        let mut seen = Vec::new();
        settle(&mut a, &mut b, &mut seen);
        assert!(seen.iter().all(|s| *s == (Status::Suspended, Status::Suspended)), "{seen:?}");
        assert!(status_reason(&a).contains("1000000000000002"));
        activate(&mut b).unwrap();
        settle(&mut a, &mut b, &mut Vec::new());
        assert_eq!((a.status, b.status), (Status::Activated, Status::Activated));
    }

    #[test]
    fn stale_and_duplicate_reports_are_ignored() {
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        let old = a.report();
        suspend(&mut a).unwrap();
        settle(&mut a, &mut b, &mut Vec::new());
        let before = b.clone();
        // What the peer link skips without copying the end (changes_nothing) is ignored.
        assert!(changes_nothing(&b, &old) && changes_nothing(&b, &a.report()));
        assert_eq!(apply_report(&mut b, &old, DateTime::default()), Applied::Ignored);
        assert_eq!(apply_report(&mut b, &a.report(), DateTime::default()), Applied::Ignored);
        assert_eq!(b, before);
        let newer = EndReport { version: a.version + 1, ..a.report() };
        assert!(!changes_nothing(&b, &newer) && !changes_nothing(&b, &EndReport { deleted: true, ..a.report() }));
    }

    #[test]
    fn a_report_that_changes_nothing_is_one_that_apply_report_ignores() {
        let (mut a, mut b) = pair();
        let (idle_a, idle_b) = (a.clone(), b.clone());
        let mut connecting_a = a.clone();
        begin_connect(&mut connecting_a).unwrap();
        connect(&mut a, &mut b);
        let mut stranger = idle_b.clone();
        stranger.router_interface_id = "ri-stranger".into();
        let ends = [("idle A", idle_a.clone()), ("idle B", idle_b.clone()), ("connecting A", connecting_a.clone())];
        let ends = [ends.as_slice(), &[("linked A", a.clone()), ("linked B", b.clone())]].concat();
        let reports = vec![
            ("idle A", idle_a.report()),
            ("idle B", idle_b.report()),
            ("a stranger", stranger.report()),
            ("linked A", a.report()),
            ("linked B", b.report()),
            (
                "B admits A",
                EndReport { partner_interface_id: connecting_a.router_interface_id.clone(), ..idle_b.report() },
            ),
            ("newer B", EndReport { version: b.version + 1, status: Status::Suspending, ..b.report() }),
        ];
        let deleted =
            reports.iter().map(|(name, r)| (*name, EndReport { deleted: true, ..r.clone() })).collect::<Vec<_>>();
        let mut changing = Vec::new();
        for (deleted, reports) in [("", &reports), ("deleted ", &deleted)] {
            for (end_name, end) in &ends {
                for (report_name, report) in reports.iter() {
                    let mut applied = end.clone();
                    let outcome = apply_report(&mut applied, report, DateTime::default());
                    if changes_nothing(end, report) {
                        assert_eq!((outcome, &applied), (Applied::Ignored, end), "{report_name} to {end_name}");
                    } else {
                        changing.push(format!("{deleted}{report_name} to {end_name}"));
                    }
                }
            }
        }
        // A waiting connect hears its admission (which the linked acceptor end's report is too); a linked end
        // hears newer news of its partner and its partner's deletion, however old the deleted report.
        assert_eq!(
            changing,
            [
                "linked B to connecting A",
                "B admits A to connecting A",
                "newer B to connecting A",
                "newer B to linked A",
                "deleted idle B to linked A",
                "deleted linked B to linked A",
                "deleted B admits A to linked A",
                "deleted newer B to linked A",
                "deleted idle A to linked B",
                "deleted linked A to linked B",
            ]
        );
    }

    #[test]
    fn consent_checks_the_names_on_the_acceptor() {
        type Spoil = Box<dyn Fn(&mut RouterInterface)>;
        let cases: Vec<(&str, Spoil)> = vec![
            ("Forbbiden.InvaildOwner", Box::new(|b| b.opposite.owner_id = "1000000000000009".into())),
            ("IncorrectOppositeInterfaceInfo", Box::new(|b| b.opposite.router_id = "vrt-other".into())),
            ("IncorrectOppositeInterfaceInfo", Box::new(|b| b.opposite.interface_id = "ri-other".into())),
            ("IncorrectOppositeInterfaceInfo.NotSet", Box::new(|b| b.opposite.interface_id.clear())),
            ("IncorrectRIStatus", Box::new(|b| b.status = Status::Suspended)),
            ("IncorrectOppositeInterfaceInfo", Box::new(|b| b.role = Role::InitiatingSide)),
            ("IncorrectOppositeInterfaceInfo", Box::new(|b| b.opposite.region_id = "cn-beijing".into())),
            ("IncorrectOppositeInterfaceInfo", Box::new(|b| b.region_id = "cn-beijing".into())),
        ];
        for (reason, spoil) in cases {
            let (mut a, mut b) = pair();
            spoil(&mut b);
            let before = b.clone();
            begin_connect(&mut a).unwrap();
            let request = ConnectRequest { initiator: a.report(), names: a.opposite.clone() };
            let err = admit(&mut b, &request, DateTime::default()).unwrap_err();
            assert_eq!(err.reason, reason);
            assert_eq!(b, before, "a refused admission changes nothing");
            fail_connect(&mut a, &err);
            assert_eq!(a.status, Status::Idle);
            assert_eq!(a.last_error.as_ref().map(|e| e.reason.as_str()), Some(reason));
        }
    }

    #[test]
    fn connect_preconditions_on_the_initiator() {
        let (mut a, mut b) = pair();
        assert_eq!(begin_connect(&mut b).unwrap_err().reason, "IncorrectRole.NotInitiatingSide");
        a.opposite.owner_id.clear();
        assert_eq!(begin_connect(&mut a).unwrap_err().reason, "IncorrectOppositeInterfaceInfo.NotSet");
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        assert_eq!(begin_connect(&mut a).unwrap_err().reason, "IncorrectStatus");
    }

    #[test]
    fn deleting_one_end_returns_the_other_to_idle() {
        let (mut a, mut b) = pair();
        connect(&mut a, &mut b);
        assert!(check_delete(&a).is_err());
        suspend(&mut a).unwrap();
        settle(&mut a, &mut b, &mut Vec::new());
        check_delete(&a).unwrap();
        assert_eq!(apply_report(&mut b, &deletion_report(&a), DateTime::default()), Applied::Changed);
        assert_eq!(b.status, Status::Idle);
        assert_eq!(b.last_opposite_status, Some(Status::Deleted));
        assert!(b.suspended_by().is_empty());
    }

    #[test]
    fn an_initiator_that_gave_up_releases_the_acceptor() {
        let (mut a, mut b) = pair();
        begin_connect(&mut a).unwrap();
        let request = ConnectRequest { initiator: a.report(), names: a.opposite.clone() };
        admit(&mut b, &request, DateTime::default()).unwrap();
        assert_eq!(b.status, Status::Accepting);
        // The admission never reached the initiator, which timed out.
        fail_connect(&mut a, &DomainError::precondition("ConnectTimeout", "no answer"));
        // The late admission does not revive the initiator...
        assert_eq!(apply_report(&mut a, &b.report(), DateTime::default()), Applied::Ignored);
        assert_eq!(a.status, Status::Idle);
        // ...and the initiator's Idle report releases the acceptor.
        assert_eq!(apply_report(&mut b, &a.report(), DateTime::default()), Applied::Changed);
        assert_eq!(b.status, Status::Idle);
        assert!(b.last_error.is_some());
        // Both can connect again.
        connect(&mut a, &mut b);
        assert_eq!((a.status, b.status), (Status::Activated, Status::Activated));
    }

    #[test]
    fn a_report_of_the_acceptor_before_it_admits_is_not_an_admission() {
        let (mut a, b) = pair();
        begin_connect(&mut a).unwrap();
        // B changed (say, its name) before it saw the connect: its report names no partner.
        assert_eq!(apply_report(&mut a, &b.report(), DateTime::default()), Applied::Ignored);
        assert_eq!((a.status, a.link.is_none()), (Status::Connecting, true));
    }

    #[test]
    fn versions_only_grow() {
        let (mut a, mut b) = pair();
        let mut last = (a.version, b.version);
        connect(&mut a, &mut b);
        for step in 0..3 {
            if step % 2 == 0 {
                suspend(&mut a).unwrap()
            } else {
                activate(&mut a).unwrap()
            }
            settle(&mut a, &mut b, &mut Vec::new());
            assert!(a.version > last.0 && b.version > last.1);
            last = (a.version, b.version);
        }
    }
}
