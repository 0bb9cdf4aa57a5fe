//! The peer protocol's messages to and from domain types, and errors across the link.

use tonic_types::StatusExt;

use super::convert::{self, router_type_to_pb, status_to_pb};
use crate::api::peer::v1 as peer;
use crate::domain::lifecycle::ConnectRequest;
use crate::domain::model::{BusinessStatus, EndReport, OppositeConfig};
use crate::domain::{DomainError, DomainResult, ErrorKind};

pub fn report_to_pb(r: EndReport) -> peer::EndReport {
    peer::EndReport {
        interface_id: r.interface_id,
        owner_id: r.owner_id,
        router_id: r.router_id,
        router_type: router_type_to_pb(Some(r.router_type)).into(),
        region_id: r.region_id,
        version: r.version,
        status: status_to_pb(r.status).into(),
        spec: r.spec,
        bandwidth: r.bandwidth,
        business_status: convert::business_status_to_pb(r.business_status).into(),
        own_suspended: r.own_suspended,
        intent_version: r.intent_version,
        seen_intent_version: r.seen_intent_version,
        echoed_intent_version: r.echoed_intent_version,
        deleted: r.deleted,
        partner_interface_id: r.partner_interface_id,
        router_cidr: r.router_cidr,
        routes_via: r.routes_via,
    }
}

fn required<T>(field: &str, value: Option<T>) -> DomainResult<T> {
    value.ok_or_else(|| DomainError::missing(field))
}

pub fn report_from_pb(r: peer::EndReport) -> DomainResult<EndReport> {
    let router_type = required("router_type", convert::decode("router_type", r.router_type, convert::router_type)?)?;
    let status = required("status", convert::decode("status", r.status, convert::status)?)?;
    let business_status = convert::decode("business_status", r.business_status, convert::business_status)?
        .unwrap_or(BusinessStatus::Normal);
    Ok(EndReport {
        interface_id: r.interface_id,
        owner_id: r.owner_id,
        router_id: r.router_id,
        router_type,
        region_id: r.region_id,
        version: r.version,
        status,
        spec: r.spec,
        bandwidth: r.bandwidth,
        business_status,
        own_suspended: r.own_suspended,
        intent_version: r.intent_version,
        seen_intent_version: r.seen_intent_version,
        echoed_intent_version: r.echoed_intent_version,
        partner_interface_id: r.partner_interface_id,
        router_cidr: r.router_cidr,
        routes_via: r.routes_via,
        deleted: r.deleted,
    })
}

pub fn admit_request_to_pb(account_id: &str, request: &ConnectRequest) -> peer::AdmitRequest {
    let names = &request.names;
    peer::AdmitRequest {
        protocol_version: peer::ProtocolVersion::ProtocolVersion1.into(),
        initiator_account_id: account_id.to_owned(),
        initiator: Some(report_to_pb(request.initiator.clone())),
        names: Some(peer::OppositeNames {
            interface_id: names.interface_id.clone(),
            owner_id: names.owner_id.clone(),
            router_id: names.router_id.clone(),
            router_type: router_type_to_pb(names.router_type).into(),
            region_id: names.region_id.clone(),
        }),
    }
}

pub fn admit_request_from_pb(r: peer::AdmitRequest) -> DomainResult<ConnectRequest> {
    let initiator = report_from_pb(required("initiator", r.initiator)?)?;
    let names = required("names", r.names)?;
    Ok(ConnectRequest {
        initiator,
        names: OppositeConfig {
            region_id: names.region_id,
            router_id: names.router_id,
            router_type: convert::decode("names.router_type", names.router_type, convert::router_type)?,
            interface_id: names.interface_id,
            owner_id: names.owner_id,
            access_point_id: String::new(),
        },
    })
}

/// A refusal that came back over the link, as the domain error it was on the other side.
pub fn error_from_status(status: &tonic::Status) -> DomainError {
    let kind = match status.code() {
        tonic::Code::InvalidArgument => ErrorKind::InvalidArgument,
        tonic::Code::NotFound => ErrorKind::NotFound,
        tonic::Code::FailedPrecondition => ErrorKind::FailedPrecondition,
        tonic::Code::AlreadyExists => ErrorKind::AlreadyExists,
        tonic::Code::ResourceExhausted => ErrorKind::ResourceExhausted,
        tonic::Code::PermissionDenied => ErrorKind::PermissionDenied,
        tonic::Code::Unauthenticated => ErrorKind::Unauthenticated,
        tonic::Code::Unavailable => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    let info = status.get_details_error_info();
    let reason = info.as_ref().map_or_else(|| format!("{:?}", status.code()), |i| i.reason.clone());
    // The message reads "Reason: text"; keep the text.
    let message = status.message().strip_prefix(&format!("{reason}: ")).unwrap_or(status.message()).to_owned();
    DomainError { kind, reason, message, field: info.and_then(|i| i.metadata.get("field").cloned()) }
}

/// Whether a failed peer call is the other side's final answer (a refusal) rather than a failure worth
/// retrying: the network, or the other service failing to store (UNAVAILABLE) or failing (INTERNAL).
pub fn is_refusal(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::FailedPrecondition
            | Code::InvalidArgument
            | Code::NotFound
            | Code::PermissionDenied
            | Code::AlreadyExists
            | Code::ResourceExhausted
    ) && status.get_details_error_info().is_some()
}
