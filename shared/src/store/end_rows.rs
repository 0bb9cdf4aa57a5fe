//! A router interface is stored as two rows. Its connection state (status, versions, the handshake's
//! counters, the last error, billing) changes with every step of a connection; the rest of it (its
//! configuration, and once linked the other end's names and its link's creation) only when the end is
//! modified, connected or disconnected, renewed, or the other end's configuration changes. Kept apart, a
//! resync of 50,000 connections rewrites 50,000 state rows of about 200 bytes instead of 50,000 whole records
//! of about 1,400, which at 100,000 ends per account meant rewriting the whole 200 MB table on every step of
//! the handshake.

use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::billing::EndBilling;
use crate::domain::model::{BusinessStatus, EndReport, Link, RouterInterface, Status};

/// The fields of an end that a connection's steps change. A field at its placeholder value (false, zero,
/// none, Normal) is left out of the row, which makes a connected end's state row about 200 bytes instead of
/// 420; the view's merge of the two rows still gives every field its value, as the configuration row holds
/// the same placeholders. The statuses and versions are always written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct EndState {
    status: Status,
    #[serde(default, skip_serializing_if = "is_default")]
    business_status: BusinessStatus,
    version: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    last_error: Option<Box<DomainError>>,
    #[serde(default, skip_serializing_if = "is_default")]
    last_opposite_status: Option<Status>,
    #[serde(default, skip_serializing_if = "is_default")]
    billing: EndBilling,
    /// Present exactly when the end's link is.
    #[serde(default, skip_serializing_if = "is_default")]
    link: Option<LinkState>,
}

/// This end's side of the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LinkState {
    #[serde(default, skip_serializing_if = "is_default")]
    own_suspended: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    intent_version: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    settled_suspended: Option<bool>,
    opposite: OppositeState,
}

/// The counters and statuses of the last report heard from the other end (its names, spec and routes stay
/// with the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OppositeState {
    version: u64,
    status: Status,
    #[serde(default, skip_serializing_if = "is_default")]
    business_status: BusinessStatus,
    #[serde(default, skip_serializing_if = "is_default")]
    own_suspended: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    intent_version: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    seen_intent_version: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    echoed_intent_version: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    deleted: bool,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl LinkState {
    fn of(link: &Link) -> Self {
        let Link { own_suspended, intent_version, settled_suspended, opposite } = link;
        let EndReport {
            version,
            status,
            business_status,
            own_suspended: opposite_suspended,
            intent_version: opposite_intent,
            seen_intent_version,
            echoed_intent_version,
            deleted,
            interface_id: _,
            owner_id: _,
            router_id: _,
            router_type: _,
            region_id: _,
            spec: _,
            bandwidth: _,
            partner_interface_id: _,
            router_cidr: _,
            routes_via: _,
        } = opposite;
        LinkState {
            own_suspended: *own_suspended,
            intent_version: *intent_version,
            settled_suspended: *settled_suspended,
            opposite: OppositeState {
                version: *version,
                status: *status,
                business_status: *business_status,
                own_suspended: *opposite_suspended,
                intent_version: *opposite_intent,
                seen_intent_version: *seen_intent_version,
                echoed_intent_version: *echoed_intent_version,
                deleted: *deleted,
            },
        }
    }
}

impl EndState {
    /// Every field is named (the configuration's as `_`), as in `same_configuration`: a new field must be
    /// placed on one side or the other, or it would not be stored.
    pub(super) fn of(ri: &RouterInterface) -> Self {
        let RouterInterface {
            status,
            business_status,
            version,
            last_error,
            last_opposite_status,
            billing,
            link,
            router_interface_id: _,
            owner_id: _,
            name: _,
            description: _,
            region_id: _,
            role: _,
            router_type: _,
            router_id: _,
            access_point_id: _,
            spec: _,
            opposite: _,
            charge_type: _,
            pricing_cycle: _,
            period: _,
            auto_pay: _,
            auto_renew: _,
            health_check_source_ip: _,
            health_check_target_ip: _,
            creation_time: _,
            connected_time: _,
            end_time: _,
            router_cidr: _,
            routes_via: _,
        } = ri;
        EndState {
            status: *status,
            business_status: *business_status,
            version: *version,
            last_error: last_error.clone(),
            last_opposite_status: *last_opposite_status,
            billing: billing.clone(),
            link: link.as_deref().map(LinkState::of),
        }
    }

    /// The same fields at fixed values: what the configuration row holds in their place, so that it
    /// changes only when the configuration does.
    fn placeholder(ri: &RouterInterface) -> Self {
        let opposite = OppositeState {
            version: 0,
            status: Status::Idle,
            business_status: BusinessStatus::Normal,
            own_suspended: false,
            intent_version: 0,
            seen_intent_version: 0,
            echoed_intent_version: 0,
            deleted: false,
        };
        EndState {
            status: Status::Idle,
            business_status: BusinessStatus::Normal,
            version: 0,
            last_error: None,
            last_opposite_status: None,
            billing: EndBilling::default(),
            link: ri.link.as_ref().map(|_| LinkState {
                own_suspended: false,
                intent_version: 0,
                settled_suspended: None,
                opposite,
            }),
        }
    }

    /// Puts these fields into `ri` (its configuration). Fails when one has a link and the other not: the
    /// two rows were not written from the same end.
    pub(super) fn write_to(self, ri: &mut RouterInterface) -> Result<(), String> {
        ri.status = self.status;
        ri.business_status = self.business_status;
        ri.version = self.version;
        ri.last_error = self.last_error;
        ri.last_opposite_status = self.last_opposite_status;
        ri.billing = self.billing;
        match (self.link, ri.link.as_deref_mut()) {
            (None, None) => {}
            (Some(state), Some(link)) => {
                link.own_suspended = state.own_suspended;
                link.intent_version = state.intent_version;
                link.settled_suspended = state.settled_suspended;
                let (from, to) = (state.opposite, &mut link.opposite);
                to.version = from.version;
                to.status = from.status;
                to.business_status = from.business_status;
                to.own_suspended = from.own_suspended;
                to.intent_version = from.intent_version;
                to.seen_intent_version = from.seen_intent_version;
                to.echoed_intent_version = from.echoed_intent_version;
                to.deleted = from.deleted;
            }
            (state, _) => {
                return Err(format!(
                    "its state row {} a link and its configuration row {}",
                    if state.is_some() { "has" } else { "has no" },
                    if state.is_some() { "has none" } else { "has one" },
                ));
            }
        }
        Ok(())
    }
}

/// The configuration row's record: `ri` with its state fields at their placeholder values.
pub(super) fn configuration(ri: &RouterInterface) -> RouterInterface {
    let mut config = ri.clone();
    // The placeholder has a link exactly when `ri` has, so its link fields always find their place.
    if let Err(never) = EndState::placeholder(ri).write_to(&mut config) {
        unreachable!("{never}");
    }
    config
}

/// Whether two records of one end have the same configuration row, without building either: the account's
/// state compares each end it applies with the one it replaces (see `Change::PutRouterInterfaceState`).
/// Every field is named, so that a new one must be placed on one side or the other.
pub fn same_configuration(a: &RouterInterface, b: &RouterInterface) -> bool {
    let RouterInterface {
        router_interface_id,
        owner_id,
        name,
        description,
        region_id,
        role,
        router_type,
        router_id,
        access_point_id,
        spec,
        opposite,
        charge_type,
        pricing_cycle,
        period,
        auto_pay,
        auto_renew,
        health_check_source_ip,
        health_check_target_ip,
        creation_time,
        connected_time,
        end_time,
        router_cidr,
        routes_via,
        link,
        status: _,
        business_status: _,
        version: _,
        last_error: _,
        last_opposite_status: _,
        billing: _,
    } = a;
    *router_interface_id == b.router_interface_id
        && *owner_id == b.owner_id
        && *name == b.name
        && *description == b.description
        && *region_id == b.region_id
        && *role == b.role
        && *router_type == b.router_type
        && *router_id == b.router_id
        && *access_point_id == b.access_point_id
        && *spec == b.spec
        && *opposite == b.opposite
        && *charge_type == b.charge_type
        && *pricing_cycle == b.pricing_cycle
        && *period == b.period
        && *auto_pay == b.auto_pay
        && *auto_renew == b.auto_renew
        && *health_check_source_ip == b.health_check_source_ip
        && *health_check_target_ip == b.health_check_target_ip
        && *creation_time == b.creation_time
        && *connected_time == b.connected_time
        && *end_time == b.end_time
        && *router_cidr == b.router_cidr
        && *routes_via == b.routes_via
        && match (link.as_deref(), b.link.as_deref()) {
            (None, None) => true,
            (Some(a), Some(b)) => same_link_configuration(a, b),
            _ => false,
        }
}

fn same_link_configuration(a: &Link, b: &Link) -> bool {
    let Link { opposite, own_suspended: _, intent_version: _, settled_suspended: _ } = a;
    let EndReport {
        interface_id,
        owner_id,
        router_id,
        router_type,
        region_id,
        spec,
        bandwidth,
        partner_interface_id,
        router_cidr,
        routes_via,
        version: _,
        status: _,
        business_status: _,
        own_suspended: _,
        intent_version: _,
        seen_intent_version: _,
        echoed_intent_version: _,
        deleted: _,
    } = opposite;
    let b = &b.opposite;
    *interface_id == b.interface_id
        && *owner_id == b.owner_id
        && *router_id == b.router_id
        && *router_type == b.router_type
        && *region_id == b.region_id
        && *spec == b.spec
        && *bandwidth == b.bandwidth
        && *partner_interface_id == b.partner_interface_id
        && *router_cidr == b.router_cidr
        && *routes_via == b.routes_via
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Link, Role};

    fn connected() -> RouterInterface {
        let mut ri = RouterInterface::sample("ri-a", "1", "vrt-a", Role::InitiatingSide);
        let mut opposite = RouterInterface::sample("ri-b", "2", "vrt-b", Role::AcceptingSide).report();
        (opposite.version, opposite.status, opposite.intent_version) = (7, Status::Suspending, 3);
        (opposite.seen_intent_version, opposite.echoed_intent_version) = (2, 1);
        ri.link =
            Some(Box::new(Link { own_suspended: true, intent_version: 2, settled_suspended: Some(false), opposite }));
        (ri.status, ri.version, ri.last_opposite_status) = (Status::Suspended, 9, Some(Status::Suspending));
        ri.last_error = Some(Box::new(DomainError::internal("why")));
        ri.billing.billed_until = Some(chrono::DateTime::default());
        ri
    }

    #[test]
    fn an_end_is_its_configuration_and_its_state() {
        for ri in [connected(), RouterInterface::sample("ri-c", "1", "vrt-a", Role::AcceptingSide)] {
            let mut back = configuration(&ri);
            assert_ne!(back, ri, "the configuration row holds placeholders");
            EndState::of(&ri).write_to(&mut back).unwrap();
            assert_eq!(back, ri);
        }
    }

    #[test]
    fn a_step_of_the_handshake_leaves_the_configuration_as_it_was() {
        let before = connected();
        let mut after = before.clone();
        after.status = Status::Activated;
        after.version += 1;
        after.link.as_mut().unwrap().opposite.seen_intent_version += 1;
        assert_eq!(configuration(&after), configuration(&before));
        assert_ne!(EndState::of(&after), EndState::of(&before));
        after.name = "renamed".into();
        assert_ne!(configuration(&after), configuration(&before));
    }

    /// One change of each kind, to the configuration or to the state.
    fn variants() -> Vec<RouterInterface> {
        let base = connected();
        let mut variants = vec![base.clone(), RouterInterface { link: None, ..base.clone() }];
        let changes: [fn(&mut RouterInterface); 12] = [
            |ri| ri.name.push('x'),
            |ri| ri.spec = "Small.1".into(),
            |ri| ri.routes_via.push("10.1.0.0/16".into()),
            |ri| ri.end_time = Some(chrono::DateTime::default()),
            |ri| ri.opposite.router_id.push('x'),
            |ri| ri.link.as_mut().unwrap().opposite.router_cidr.push('x'),
            |ri| ri.link.as_mut().unwrap().opposite.spec.push('x'),
            |ri| ri.status = Status::Activated,
            |ri| ri.billing.overdue_since = Some(chrono::DateTime::default()),
            |ri| ri.last_error = None,
            |ri| ri.link.as_mut().unwrap().settled_suspended = None,
            |ri| ri.link.as_mut().unwrap().opposite.deleted = true,
        ];
        for change in changes {
            let mut ri = base.clone();
            change(&mut ri);
            variants.push(ri);
        }
        variants
    }

    #[test]
    fn two_records_have_the_same_configuration_exactly_when_their_configuration_rows_are_equal() {
        for a in &variants() {
            for b in &variants() {
                assert_eq!(same_configuration(a, b), configuration(a) == configuration(b), "{a:?}\n{b:?}");
            }
        }
        assert!(variants().iter().filter(|v| same_configuration(v, &connected())).count() == 6);
    }

    #[test]
    fn a_state_row_leaves_out_the_fields_at_their_placeholders_and_reads_back_whole() {
        let unlinked = RouterInterface::sample("ri-c", "1", "vrt-a", Role::AcceptingSide);
        assert_eq!(serde_json::to_string(&EndState::of(&unlinked)).unwrap(), r#"{"status":"Idle","version":1}"#);
        for ri in variants() {
            let state = EndState::of(&ri);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(serde_json::from_str::<EndState>(&json).unwrap(), state, "{json}");
        }
    }

    #[test]
    fn rows_of_different_ends_are_refused() {
        let unlinked = RouterInterface::sample("ri-c", "1", "vrt-a", Role::AcceptingSide);
        let mut config = configuration(&unlinked);
        let error = EndState::of(&connected()).write_to(&mut config).unwrap_err();
        assert!(error.contains("has a link"), "{error}");
    }
}
