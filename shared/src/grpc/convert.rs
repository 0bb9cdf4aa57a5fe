//! Proto messages and enums to and from domain types.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::api::v1 as pb;
use crate::domain::model::{
    BusinessStatus, ChargeType, PricingCycle, Role, RouterInterface, RouterType, Status, Vbr, Vpc,
};
use crate::domain::rules::{AccountType, ConnectionType, RoutersToCreate};
use crate::domain::{DomainError, DomainResult};
use crate::domain::{billing, catalog, lifecycle};

/// A proto enum field: 0 (unspecified) is `None`, a value the proto does not define is refused.
pub fn decode<P, D>(field: &str, value: i32, map: impl FnOnce(P) -> Option<D>) -> DomainResult<Option<D>>
where
    P: TryFrom<i32>,
{
    if value == 0 {
        return Ok(None);
    }
    P::try_from(value)
        .ok()
        .and_then(map)
        .map(Some)
        .ok_or_else(|| DomainError::invalid(field, "InvalidParameter", format!("{field} has an unknown value {value}")))
}

pub fn role(p: pb::Role) -> Option<Role> {
    match p {
        pb::Role::Unspecified => None,
        pb::Role::InitiatingSide => Some(Role::InitiatingSide),
        pb::Role::AcceptingSide => Some(Role::AcceptingSide),
    }
}

pub fn router_type(p: pb::RouterType) -> Option<RouterType> {
    match p {
        pb::RouterType::Unspecified => None,
        pb::RouterType::Vrouter => Some(RouterType::VRouter),
        pb::RouterType::Vbr => Some(RouterType::Vbr),
    }
}

pub fn charge_type(p: pb::InstanceChargeType) -> Option<ChargeType> {
    match p {
        pb::InstanceChargeType::Unspecified => None,
        pb::InstanceChargeType::Postpaid => Some(ChargeType::PostPaid),
        pb::InstanceChargeType::Prepaid => Some(ChargeType::PrePaid),
    }
}

pub fn pricing_cycle(p: pb::PricingCycle) -> Option<PricingCycle> {
    match p {
        pb::PricingCycle::Unspecified => None,
        pb::PricingCycle::Month => Some(PricingCycle::Month),
        pb::PricingCycle::Year => Some(PricingCycle::Year),
    }
}

pub fn account_type(p: pb::AccountType) -> Option<AccountType> {
    match p {
        pb::AccountType::Unspecified => None,
        pb::AccountType::Same => Some(AccountType::Same),
        pb::AccountType::Different => Some(AccountType::Different),
    }
}

pub fn connection_type(p: pb::ConnectionType) -> Option<ConnectionType> {
    match p {
        pb::ConnectionType::Unspecified => None,
        pb::ConnectionType::VpcToVpc => Some(ConnectionType::VpcToVpc),
        pb::ConnectionType::VbrToVpc => Some(ConnectionType::VbrToVpc),
    }
}

pub fn routers_to_create(p: pb::RoutersToCreate) -> Option<RoutersToCreate> {
    match p {
        pb::RoutersToCreate::Unspecified => None,
        pb::RoutersToCreate::InitiatorAndAcceptor => Some(RoutersToCreate::InitiatorAndAcceptor),
        pb::RoutersToCreate::InitiatorOnly => Some(RoutersToCreate::InitiatorOnly),
        pb::RoutersToCreate::AcceptorOnly => Some(RoutersToCreate::AcceptorOnly),
    }
}

pub fn status(p: pb::Status) -> Option<Status> {
    Some(match p {
        pb::Status::Unspecified => return None,
        pb::Status::Idle => Status::Idle,
        pb::Status::Connecting => Status::Connecting,
        pb::Status::Accepting => Status::Accepting,
        pb::Status::Activated => Status::Activated,
        pb::Status::Suspending => Status::Suspending,
        pb::Status::Suspended => Status::Suspended,
        pb::Status::Activating => Status::Activating,
        pb::Status::Modifying => Status::Modifying,
        pb::Status::Deleting => Status::Deleting,
        pb::Status::Deleted => Status::Deleted,
    })
}

pub fn business_status(p: pb::BusinessStatus) -> Option<BusinessStatus> {
    match p {
        pb::BusinessStatus::Unspecified => None,
        pb::BusinessStatus::Normal => Some(BusinessStatus::Normal),
        pb::BusinessStatus::FinancialLocked => Some(BusinessStatus::FinancialLocked),
        pb::BusinessStatus::SecurityLocked => Some(BusinessStatus::SecurityLocked),
    }
}

pub fn status_to_pb(s: Status) -> pb::Status {
    match s {
        Status::Idle => pb::Status::Idle,
        Status::Connecting => pb::Status::Connecting,
        Status::Accepting => pb::Status::Accepting,
        Status::Activated => pb::Status::Activated,
        Status::Suspending => pb::Status::Suspending,
        Status::Suspended => pb::Status::Suspended,
        Status::Activating => pb::Status::Activating,
        Status::Modifying => pb::Status::Modifying,
        Status::Deleting => pb::Status::Deleting,
        Status::Deleted => pb::Status::Deleted,
    }
}

fn role_to_pb(r: Role) -> pb::Role {
    match r {
        Role::InitiatingSide => pb::Role::InitiatingSide,
        Role::AcceptingSide => pb::Role::AcceptingSide,
    }
}

pub fn router_type_to_pb(r: Option<RouterType>) -> pb::RouterType {
    match r {
        None => pb::RouterType::Unspecified,
        Some(RouterType::VRouter) => pb::RouterType::Vrouter,
        Some(RouterType::Vbr) => pb::RouterType::Vbr,
    }
}

pub fn business_status_to_pb(b: BusinessStatus) -> pb::BusinessStatus {
    match b {
        BusinessStatus::Normal => pb::BusinessStatus::Normal,
        BusinessStatus::FinancialLocked => pb::BusinessStatus::FinancialLocked,
        BusinessStatus::SecurityLocked => pb::BusinessStatus::SecurityLocked,
    }
}

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn optional_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_default()
}

pub fn vpc_to_pb(v: Vpc, owner_id: &str) -> pb::Vpc {
    pb::Vpc {
        vpc_id: v.vpc_id,
        region_id: v.region_id,
        cidr_block: v.cidr_block,
        vrouter_id: v.vrouter_id,
        route_table_id: v.route_table_id,
        vpc_name: v.name,
        description: v.description,
        owner_id: owner_id.to_owned(),
        creation_time: time(v.creation_time),
    }
}

pub fn vbr_to_pb(v: Vbr, owner_id: &str) -> pb::VirtualBorderRouter {
    pb::VirtualBorderRouter {
        vbr_id: v.vbr_id,
        region_id: v.region_id,
        access_point_id: v.access_point_id,
        name: v.name,
        description: v.description,
        route_table_id: v.route_table_id,
        owner_id: owner_id.to_owned(),
        creation_time: time(v.creation_time),
    }
}

pub fn router_interface_to_pb(ri: RouterInterface) -> pb::RouterInterface {
    let status_reason = lifecycle::status_reason(&ri);
    let suspended_by = ri.suspended_by();
    let bandwidth = ri.bandwidth();
    let opposite_view = ri.link.as_ref().map(|l| &l.opposite);
    let charged = billing::charged(&ri);
    let reservation = ri.billing.reservation.as_ref();
    pb::RouterInterface {
        router_interface_id: ri.router_interface_id,
        owner_id: ri.owner_id,
        name: ri.name,
        description: ri.description,
        region_id: ri.region_id,
        role: role_to_pb(ri.role).into(),
        router_type: router_type_to_pb(Some(ri.router_type)).into(),
        router_id: ri.router_id,
        access_point_id: ri.access_point_id,
        spec: ri.spec,
        bandwidth: i32::try_from(bandwidth).unwrap_or(i32::MAX),
        status: status_to_pb(ri.status).into(),
        business_status: business_status_to_pb(ri.business_status).into(),
        opposite_region_id: ri.opposite.region_id,
        opposite_router_id: ri.opposite.router_id,
        opposite_router_type: router_type_to_pb(ri.opposite.router_type).into(),
        opposite_interface_id: ri.opposite.interface_id,
        opposite_interface_owner_id: ri.opposite.owner_id,
        opposite_access_point_id: ri.opposite.access_point_id,
        opposite_interface_status: ri.last_opposite_status.map_or(pb::Status::Unspecified, status_to_pb).into(),
        opposite_interface_spec: opposite_view.map(|o| o.spec.clone()).unwrap_or_default(),
        opposite_bandwidth: opposite_view.map_or(0, |o| i32::try_from(o.bandwidth).unwrap_or(i32::MAX)),
        opposite_interface_business_status: opposite_view
            .map_or(pb::BusinessStatus::Unspecified, |o| business_status_to_pb(o.business_status))
            .into(),
        instance_charge_type: charge_type_to_pb(ri.charge_type).into(),
        pricing_cycle: pricing_cycle_to_pb(ri.pricing_cycle).into(),
        period: i32::try_from(ri.period).unwrap_or(i32::MAX),
        auto_renew: ri.auto_renew,
        health_check_source_ip: ri.health_check_source_ip,
        health_check_target_ip: ri.health_check_target_ip,
        creation_time: time(ri.creation_time),
        connected_time: optional_time(ri.connected_time),
        end_time: optional_time(ri.end_time),
        last_error: ri.last_error.map(|e| e.to_string()).unwrap_or_default(),
        suspended_by,
        status_reason,
        version: ri.version,
        has_reservation_data: reservation.is_some(),
        reservation_spec: reservation.map(|r| r.spec.clone()).unwrap_or_default(),
        reservation_bandwidth: reservation.map_or(0, |r| int32(catalog::bandwidth(&r.spec))),
        reservation_active_time: optional_time(reservation.map(|r| r.active_time)),
        reservation_order_type: if reservation.is_some() { "RENEWCHANGE".into() } else { String::new() },
        overdue_since: optional_time(ri.billing.overdue_since),
        charged,
    }
}

pub fn charge_type_to_pb(t: ChargeType) -> pb::InstanceChargeType {
    match t {
        ChargeType::PostPaid => pb::InstanceChargeType::Postpaid,
        ChargeType::PrePaid => pb::InstanceChargeType::Prepaid,
    }
}

pub fn pricing_cycle_to_pb(c: Option<PricingCycle>) -> pb::PricingCycle {
    match c {
        None => pb::PricingCycle::Unspecified,
        Some(PricingCycle::Month) => pb::PricingCycle::Month,
        Some(PricingCycle::Year) => pb::PricingCycle::Year,
    }
}

/// A count or size as the proto's int32, saturating.
pub fn int32<T: TryInto<i32>>(n: T) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}
