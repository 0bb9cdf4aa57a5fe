//! The account's resources in memory, with the look-ups the operations need.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::billing::{self, AccountBilling, Due, Order};
use crate::domain::model::{RouteEntry, RouterInterface, Status, Vbr, Vpc};
use crate::domain::{DomainError, DomainResult, ids};
use crate::store::{self, Change, ClientTokenRecord, Snapshot};

/// An end's id, one allocation shared by the map of ends and every index that names the end.
type Id = Arc<str>;

#[derive(Debug, Default)]
pub struct AccountState {
    vpcs: BTreeMap<String, Vpc>,
    vbrs: BTreeMap<String, Vbr>,
    /// Shared with the changes that stored them and the events that published them: a commit of many
    /// ends holds one copy of each, not three.
    router_interfaces: BTreeMap<Id, Arc<RouterInterface>>,
    route_entries: BTreeMap<String, RouteEntry>,
    client_tokens: HashMap<String, ClientTokenRecord>,
    billing: AccountBilling,
    orders: Vec<Order>,
    /// Every end's next billing event, earliest first, so the clock's tick finds due events without a scan.
    schedule: BTreeSet<(Due, Id)>,
    due_of: HashMap<Id, Due>,
    /// The ends that are overdue, and since when.
    overdue: BTreeSet<(DateTime<Utc>, Id)>,
    overdue_of: HashMap<Id, DateTime<Utc>>,
    /// Look-ups the hot paths need without a scan: every end in Describe's order (creation time, id),
    /// the ends on each router, the ends that pair with each account's ends, and the ends that pair with
    /// each remote end (by its id: what a peer's report names).
    ri_order: BTreeSet<(DateTime<Utc>, Id)>,
    ri_on_router: HashMap<String, BTreeSet<Id>>,
    ri_towards: HashMap<String, BTreeSet<Id>>,
    /// Nearly always one end per remote end: a list, not a set (a set's first node takes 200 bytes).
    ri_by_counterpart: HashMap<String, Vec<Id>>,
    /// How many ends are in each status (statuses with none are absent), for /metrics without a scan.
    ri_status_counts: HashMap<Status, usize>,
    /// The ends whose connect awaits admission ([`RouterInterface::awaits_admission`]): what the connect
    /// timeout and a new peer link look for, without a scan of every end.
    ri_awaiting_admission: BTreeSet<Id>,
}

/// [`AccountState::router_interfaces_towards`] walks every end instead of looking each up when the
/// account's ends are at least one in this many.
const WALK_ALL_FROM_ONE_IN: usize = 8;

impl AccountState {
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let mut state = Self {
            vpcs: snapshot.vpcs.into_iter().map(|v| (v.vpc_id.clone(), v)).collect(),
            vbrs: snapshot.vbrs.into_iter().map(|v| (v.vbr_id.clone(), v)).collect(),
            router_interfaces: snapshot
                .router_interfaces
                .into_iter()
                .map(|ri| (Id::from(ri.router_interface_id.as_str()), ri))
                .collect(),
            route_entries: snapshot.route_entries.into_iter().map(|e| (e.route_entry_id.clone(), e)).collect(),
            client_tokens: snapshot.client_tokens,
            billing: snapshot.billing.unwrap_or_default(),
            orders: snapshot.orders,
            schedule: BTreeSet::new(),
            due_of: HashMap::new(),
            overdue: BTreeSet::new(),
            overdue_of: HashMap::new(),
            ri_order: BTreeSet::new(),
            ri_on_router: HashMap::new(),
            ri_towards: HashMap::new(),
            ri_by_counterpart: HashMap::new(),
            ri_status_counts: HashMap::new(),
            ri_awaiting_admission: BTreeSet::new(),
        };
        let ends: Vec<(Id, Arc<RouterInterface>)> =
            state.router_interfaces.iter().map(|(id, end)| (Arc::clone(id), Arc::clone(end))).collect();
        for (id, end) in &ends {
            state.enter_in_look_ups(id, end);
        }
        state
    }

    /// Enters an end not entered yet in every look-up and the billing schedule.
    fn enter_in_look_ups(&mut self, id: &Id, end: &RouterInterface) {
        self.reschedule(id, end);
        self.index(id, end);
        self.count(end.status, true);
        self.note_admission(id, end);
    }

    /// Stores an end and keeps the look-ups in step, touching only those whose key changed: most changes
    /// of an end (its status, its view of the other end) move it in none but the status counts. Returns
    /// whether the end it replaces had the same configuration.
    fn put_end(&mut self, end: Arc<RouterInterface>) -> bool {
        let stored = self.router_interfaces.get_key_value(end.router_interface_id.as_str());
        let mut same_configuration = false;
        let id = match stored.map(|(id, old)| (Arc::clone(id), Arc::clone(old))) {
            Some((id, old)) => {
                // Compared here, sooner after the call copied the end to make the new one than the commit,
                // which comes after a whole batch (thousands of ends in a resync) has gone through the caches.
                same_configuration = store::same_configuration(&old, &end);
                self.count(old.status, false);
                if !same_place(&old, &end) {
                    self.unindex(&id, &old);
                    self.index(&id, &end);
                }
                id
            }
            None => {
                let id = Id::from(end.router_interface_id.as_str());
                self.index(&id, &end);
                id
            }
        };
        self.count(end.status, true);
        self.reschedule(&id, &end);
        self.note_admission(&id, &end);
        self.router_interfaces.insert(id, end);
        same_configuration
    }

    fn delete_end(&mut self, id: &str) {
        if let Some((id, old)) = self.router_interfaces.remove_entry(id) {
            self.unschedule(&id);
            self.unindex(&id, &old);
            self.count(old.status, false);
            self.ri_awaiting_admission.remove(&id);
        }
    }

    /// Keeps [`Self::ri_awaiting_admission`] in step with an end that was stored.
    fn note_admission(&mut self, id: &Id, end: &RouterInterface) {
        if end.awaits_admission() {
            self.ri_awaiting_admission.insert(Arc::clone(id));
        } else {
            self.ri_awaiting_admission.remove(id);
        }
    }

    /// One end more (or fewer) in `status`; a status no end is in is forgotten.
    fn count(&mut self, status: Status, more: bool) {
        let count = self.ri_status_counts.entry(status).or_default();
        if more {
            *count += 1;
        } else {
            debug_assert!(*count > 0, "no end was counted in {status:?}");
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.ri_status_counts.remove(&status);
            }
        }
    }

    fn index(&mut self, id: &Id, end: &RouterInterface) {
        self.ri_order.insert((end.creation_time, Arc::clone(id)));
        self.ri_on_router.entry(end.router_id.clone()).or_default().insert(Arc::clone(id));
        for account in accounts_paired_with(end) {
            self.ri_towards.entry(account.to_owned()).or_default().insert(Arc::clone(id));
        }
        if let Some((_, interface)) = counterpart(end) {
            self.ri_by_counterpart.entry(interface.to_owned()).or_default().push(Arc::clone(id));
        }
    }

    fn unindex(&mut self, id: &Id, end: &RouterInterface) {
        self.ri_order.remove(&(end.creation_time, Arc::clone(id)));
        let forget = |index: &mut HashMap<String, BTreeSet<Id>>, key: &str| {
            if let Some(ids) = index.get_mut(key) {
                ids.remove(&**id);
                if ids.is_empty() {
                    index.remove(key);
                }
            }
        };
        forget(&mut self.ri_on_router, &end.router_id);
        for account in accounts_paired_with(end) {
            forget(&mut self.ri_towards, account);
        }
        if let Some((_, interface)) = counterpart(end)
            && let Some(ids) = self.ri_by_counterpart.get_mut(interface)
        {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                self.ri_by_counterpart.remove(interface);
            }
        }
    }

    /// Keeps the schedule in step with an end that was stored (untouched when its due times stay).
    fn reschedule(&mut self, id: &Id, end: &RouterInterface) {
        let due = billing::next_due(end);
        let since = end.billing.overdue_since;
        if self.due_of.get(id) == due.as_ref() && self.overdue_of.get(id) == since.as_ref() {
            return;
        }
        self.unschedule(id);
        if let Some(due) = due {
            self.schedule.insert((due, Arc::clone(id)));
            self.due_of.insert(Arc::clone(id), due);
        }
        if let Some(since) = since {
            self.overdue.insert((since, Arc::clone(id)));
            self.overdue_of.insert(Arc::clone(id), since);
        }
    }

    fn unschedule(&mut self, id: &Id) {
        if let Some(due) = self.due_of.remove(id) {
            self.schedule.remove(&(due, Arc::clone(id)));
        }
        if let Some(since) = self.overdue_of.remove(id) {
            self.overdue.remove(&(since, Arc::clone(id)));
        }
    }

    /// Makes changes visible, and leaves them as the store is to write them: a put of an end whose
    /// configuration is that of the end it replaces becomes a put of its state alone.
    pub fn apply(&mut self, changes: &mut [Change]) {
        for change in changes {
            match change {
                Change::PutVpc(v) => {
                    self.vpcs.insert(v.vpc_id.clone(), v.clone());
                }
                Change::DeleteVpc(id) => {
                    self.vpcs.remove(id);
                }
                Change::PutVbr(v) => {
                    self.vbrs.insert(v.vbr_id.clone(), v.clone());
                }
                Change::DeleteVbr(id) => {
                    self.vbrs.remove(id);
                }
                // Whichever put it was, the comparison decides.
                Change::PutRouterInterface(ri) | Change::PutRouterInterfaceState(ri) => {
                    let ri = Arc::clone(ri);
                    *change = if self.put_end(Arc::clone(&ri)) {
                        Change::PutRouterInterfaceState(ri)
                    } else {
                        Change::PutRouterInterface(ri)
                    };
                }
                Change::DeleteRouterInterface(id) => self.delete_end(id),
                Change::PutRouteEntry(e) => {
                    self.route_entries.insert(e.route_entry_id.clone(), e.clone());
                }
                Change::DeleteRouteEntry(id) => {
                    self.route_entries.remove(id);
                }
                Change::PutClientToken(key, record) => {
                    self.client_tokens.insert(key.clone(), record.clone());
                }
                Change::PutAccountBilling(billing) => self.billing = billing.clone(),
                Change::PutOrder(order) => self.orders.push(order.clone()),
            }
        }
        // Every test, fuzz case and simulated step checks the look-ups against a scan.
        debug_assert!(self.indexes_agree(), "the router interface indexes disagree with the ends");
    }

    /// Whether the look-ups and the billing schedule hold exactly what a scan of the ends finds.
    fn indexes_agree(&self) -> bool {
        let mut scanned = Self::default();
        for (id, end) in &self.router_interfaces {
            scanned.enter_in_look_ups(id, end);
        }
        // The lists of `ri_by_counterpart` are in no particular order (sorted, not deduplicated: an end
        // listed twice is a fault too).
        let sorted = |index: &HashMap<String, Vec<Id>>| -> HashMap<String, Vec<Id>> {
            let sort = |ids: &Vec<Id>| {
                let mut ids = ids.clone();
                ids.sort();
                ids
            };
            index.iter().map(|(key, ids)| (key.clone(), sort(ids))).collect()
        };
        (&scanned.ri_order, &scanned.ri_on_router, &scanned.ri_towards, &scanned.ri_status_counts)
            == (&self.ri_order, &self.ri_on_router, &self.ri_towards, &self.ri_status_counts)
            && sorted(&scanned.ri_by_counterpart) == sorted(&self.ri_by_counterpart)
            && scanned.ri_awaiting_admission == self.ri_awaiting_admission
            && (&scanned.schedule, &scanned.due_of, &scanned.overdue, &scanned.overdue_of)
                == (&self.schedule, &self.due_of, &self.overdue, &self.overdue_of)
    }

    pub fn billing(&self) -> &AccountBilling {
        &self.billing
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// Billing events due by `now` (as `fires_by` decides), earliest first.
    pub fn due_by(&self, now: DateTime<Utc>) -> impl Iterator<Item = (Due, &str)> + '_ {
        self.schedule
            .iter()
            .take_while(move |(due, _)| due.at <= now)
            .filter(move |(due, _)| due.fires_by(now))
            .map(|(due, id)| (*due, &**id))
    }

    /// The overdue ends, longest overdue first.
    pub fn overdue_ends(&self) -> impl Iterator<Item = (DateTime<Utc>, &str)> + '_ {
        self.overdue.iter().map(|(since, id)| (*since, &**id))
    }

    /// Since when the account owes money: its balance is below zero or an end is overdue.
    pub fn overdue_since(&self) -> Option<DateTime<Utc>> {
        let end = self.overdue.first().map(|(since, _)| *since);
        match (self.billing.negative_since, end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest billing event still to come.
    pub fn next_due(&self) -> Option<Due> {
        self.schedule.first().map(|(due, _)| *due)
    }

    pub fn client_token(&self, key: &str) -> Option<&ClientTokenRecord> {
        self.client_tokens.get(key)
    }

    pub fn vpcs(&self) -> impl Iterator<Item = &Vpc> {
        self.vpcs.values()
    }

    pub fn vbrs(&self) -> impl Iterator<Item = &Vbr> {
        self.vbrs.values()
    }

    pub fn router_interfaces(&self) -> impl Iterator<Item = &RouterInterface> {
        self.router_interfaces.values().map(|end| &**end)
    }

    pub fn router_interface_count(&self) -> usize {
        self.router_interfaces.len()
    }

    /// How many ends are in each status; a status no end is in is absent.
    pub fn router_interface_status_counts(&self) -> &HashMap<Status, usize> {
        &self.ri_status_counts
    }

    /// Every end in Describe's order: creation time, then id.
    pub fn router_interfaces_in_order(&self) -> impl Iterator<Item = &RouterInterface> {
        self.ends(self.ri_order.iter().map(|(_, id)| id))
    }

    /// The ends in Describe's order from the `skip`th on.
    pub fn router_interfaces_from(&self, skip: usize) -> impl Iterator<Item = &RouterInterface> {
        self.ends(self.ri_order.iter().skip(skip).map(|(_, id)| id))
    }

    /// The ends whose counterpart (see [`counterpart`]) is any of the remote ends `interface_ids`, each once,
    /// in the order of ids. Their ids are sorted before the ends are looked up: consecutive searches of the
    /// map of ends then share most of their path, still in the processor's caches (in the order of the
    /// remote ids, each search of a large map missed them at every level).
    pub fn router_interfaces_pairing_with<'a, 'b>(
        &'a self,
        interface_ids: impl Iterator<Item = &'b str>,
    ) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        let mut ids: Vec<&Id> = interface_ids.filter_map(|id| self.ri_by_counterpart.get(id)).flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        self.ends(ids.into_iter())
    }

    /// The ends that name an end of `account` as their opposite, or are linked to one, in the order of ids.
    pub fn router_interfaces_towards<'a>(&'a self, account: &'a str) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        let ids = self.ri_towards.get(account);
        // Each id of the index costs a search of the map of ends; when the account's ends are a good part
        // of all (a resync lists them all), one walk of the map, which meets them in the same order, costs
        // less.
        let walk = ids.is_some_and(|ids| ids.len() * WALK_ALL_FROM_ONE_IN >= self.router_interfaces.len());
        let walked =
            walk.then(|| self.router_interfaces().filter(move |end| accounts_paired_with(end).any(|a| a == account)));
        let looked_up = (!walk).then(|| self.ends(ids.into_iter().flatten()));
        walked.into_iter().flatten().chain(looked_up.into_iter().flatten())
    }

    /// The ends whose connect awaits admission ([`RouterInterface::awaits_admission`]), in the order of ids.
    pub fn router_interfaces_awaiting_admission(&self) -> impl Iterator<Item = &RouterInterface> {
        self.ends(self.ri_awaiting_admission.iter())
    }

    /// The ends an index names.
    fn ends<'a>(&'a self, ids: impl Iterator<Item = &'a Id> + 'a) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        ids.filter_map(|id| self.router_interfaces.get(id).map(|end| &**end))
    }

    pub fn vpc(&self, field: &str, id: &str) -> DomainResult<&Vpc> {
        ids::parse(field, ids::VPC, id)?;
        self.vpcs.get(id).ok_or_else(|| {
            DomainError::not_found(field, "InvalidVpcId.NotFound", format!("VPC {id} does not exist in this account"))
        })
    }

    /// The VPC whose vRouter is `vrouter_id`.
    pub fn vpc_of_router(&self, field: &str, vrouter_id: &str) -> DomainResult<&Vpc> {
        ids::parse(field, ids::VROUTER, vrouter_id)?;
        self.vpcs.get(&format!("{}-{}", ids::VPC, ids::suffix(vrouter_id))).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouterId.NotFound",
                format!("vRouter {vrouter_id} does not exist in this account"),
            )
        })
    }

    pub fn vbr(&self, field: &str, id: &str) -> DomainResult<&Vbr> {
        ids::parse(field, ids::VBR, id)?;
        self.vbrs.get(id).ok_or_else(|| {
            DomainError::not_found(field, "InvalidVbrId.NotFound", format!("VBR {id} does not exist in this account"))
        })
    }

    pub fn router_interface(&self, field: &str, id: &str) -> DomainResult<&RouterInterface> {
        ids::parse(field, ids::ROUTER_INTERFACE, id)?;
        self.router_interfaces.get(id).map(|end| &**end).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouterInterfaceId.NotFound",
                format!("router interface {id} does not exist in this account"),
            )
        })
    }

    pub fn route_entries(&self) -> impl Iterator<Item = &RouteEntry> {
        self.route_entries.values()
    }

    pub fn route_entry(&self, field: &str, id: &str) -> DomainResult<&RouteEntry> {
        ids::parse(field, ids::ROUTE_ENTRY, id)?;
        self.route_entries.get(id).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouteEntryId.NotFound",
                format!("route entry {id} does not exist in this account"),
            )
        })
    }

    /// The custom entries of one route table.
    pub fn entries_of_table<'a>(&'a self, route_table_id: &'a str) -> impl Iterator<Item = &'a RouteEntry> + 'a {
        self.route_entries.values().filter(move |e| e.route_table_id == route_table_id)
    }

    /// The custom entries whose next hop is `interface_id`.
    pub fn entries_via<'a>(&'a self, interface_id: &'a str) -> impl Iterator<Item = &'a RouteEntry> + 'a {
        self.route_entries.values().filter(move |e| e.next_hop_id == interface_id)
    }

    pub fn interfaces_on_router<'a>(&'a self, router_id: &'a str) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        self.ends(self.ri_on_router.get(router_id).into_iter().flatten())
    }
}

/// The other end `ri` is linked to, or else the one it names as its opposite: (owner, interface id).
pub fn counterpart(ri: &RouterInterface) -> Option<(&str, &str)> {
    match &ri.link {
        Some(link) => Some((&link.opposite.owner_id, &link.opposite.interface_id)),
        None if !ri.opposite.interface_id.is_empty() => Some((&ri.opposite.owner_id, &ri.opposite.interface_id)),
        None => None,
    }
}

/// Whether two versions of an end have the same keys in the look-ups (all but the status counts).
fn same_place(a: &RouterInterface, b: &RouterInterface) -> bool {
    a.creation_time == b.creation_time
        && a.router_id == b.router_id
        && counterpart(a) == counterpart(b)
        && accounts_paired_with(a).eq(accounts_paired_with(b))
}

/// The accounts whose ends `end` names as its opposite or is linked to (one, or none).
fn accounts_paired_with(end: &RouterInterface) -> impl Iterator<Item = &str> {
    let linked = end.link.as_ref().map(|link| link.opposite.owner_id.as_str());
    let named = Some(end.opposite.owner_id.as_str()).filter(|owner| Some(*owner) != linked);
    linked.into_iter().chain(named).filter(|owner| !owner.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Link, OppositeConfig, Role};

    /// An end of account 1 named `id` whose opposite is an end of `owner` (linked to it with `linked`).
    fn end(id: &str, owner: &str, linked: bool, status: Status) -> RouterInterface {
        let mut end = RouterInterface::sample(id, "1000000000000001", "vrt-a", Role::InitiatingSide);
        end.opposite.owner_id = owner.into();
        end.opposite.interface_id = format!("ri-of{id}");
        end.status = status;
        if linked {
            let opposite = RouterInterface::sample(&format!("ri-of{id}"), owner, "vrt-b", Role::AcceptingSide).report();
            end.link =
                Some(Box::new(Link { own_suspended: false, intent_version: 0, settled_suspended: None, opposite }));
        }
        end
    }

    fn ids<'a>(ends: impl Iterator<Item = &'a RouterInterface>) -> Vec<&'a str> {
        ends.map(|e| e.router_interface_id.as_str()).collect()
    }

    #[test]
    fn the_ends_towards_an_account_are_the_same_whether_walked_or_looked_up() {
        // Account 2 is paired with most ends (walked), account 3 with two (looked up), no account with ri-05.
        let (many, few) = ("1000000000000002", "1000000000000003");
        let mut ends: Vec<RouterInterface> =
            (0..20).map(|n| end(&format!("ri-{n:02}"), many, n % 2 == 0, Status::Activated)).collect();
        ends[5].opposite = OppositeConfig::default();
        ends.push(end("ri-30", few, true, Status::Activated));
        ends.push(end("ri-31", few, false, Status::Idle));
        let state = AccountState::from_snapshot(Snapshot {
            router_interfaces: ends.into_iter().rev().map(Arc::new).collect(),
            ..Snapshot::default()
        });
        let towards_many: Vec<String> = (0..20).filter(|n| *n != 5).map(|n| format!("ri-{n:02}")).collect();
        assert_eq!(ids(state.router_interfaces_towards(many)), towards_many);
        assert_eq!(ids(state.router_interfaces_towards(few)), ["ri-30", "ri-31"]);
        assert_eq!(ids(state.router_interfaces_towards("1000000000000004")), Vec::<&str>::new());
    }

    #[test]
    fn the_ends_awaiting_admission_follow_their_changes() {
        let mut state = AccountState::default();
        let other = "1000000000000002";
        state.apply(&mut [
            Change::PutRouterInterface(Arc::new(end("ri-a", other, false, Status::Connecting))),
            Change::PutRouterInterface(Arc::new(end("ri-b", other, true, Status::Connecting))),
            Change::PutRouterInterface(Arc::new(end("ri-c", other, false, Status::Idle))),
            Change::PutRouterInterface(Arc::new(end("ri-d", other, false, Status::Connecting))),
        ]);
        assert_eq!(ids(state.router_interfaces_awaiting_admission()), ["ri-a", "ri-d"]);
        state.apply(&mut [
            Change::PutRouterInterface(Arc::new(end("ri-a", other, true, Status::Connecting))),
            Change::PutRouterInterface(Arc::new(end("ri-c", other, false, Status::Connecting))),
            Change::DeleteRouterInterface("ri-d".into()),
        ]);
        assert_eq!(ids(state.router_interfaces_awaiting_admission()), ["ri-c"]);
    }

    #[test]
    fn a_put_that_leaves_an_ends_configuration_as_it_was_is_left_for_the_store_as_a_put_of_its_state() {
        let mut state = AccountState::default();
        let other = "1000000000000002";
        let kind = |change: &Change| match change {
            Change::PutRouterInterface(_) => "whole",
            Change::PutRouterInterfaceState(_) => "state",
            _ => "other",
        };
        let made = end("ri-a", other, false, Status::Idle);
        let connecting = RouterInterface { status: Status::Connecting, version: 2, ..made.clone() };
        let renamed = RouterInterface { name: "renamed".into(), ..connecting.clone() };
        let linked = end("ri-a", other, true, Status::Activated);
        let mut changes =
            [&made, &connecting, &renamed, &linked, &linked].map(|ri| Change::PutRouterInterface(Arc::new(ri.clone())));
        state.apply(&mut changes);
        assert_eq!(changes.each_ref().map(kind), ["whole", "state", "whole", "whole", "state"]);
        assert_eq!(*state.router_interface("router_interface_id", "ri-a").unwrap(), linked);
        // A put said to be of the state alone that changes the configuration is written whole.
        let mut changes = [Change::PutRouterInterfaceState(Arc::new(renamed))];
        state.apply(&mut changes);
        assert_eq!(changes.each_ref().map(kind), ["whole"]);
    }
}
