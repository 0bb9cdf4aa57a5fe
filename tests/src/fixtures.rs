//! Requests and checks shared by the single-account tests: valid requests to build bad ones from, and
//! the assertion that a refusal is what a user should see.

use tonic::{Code, Response, Status};

use crate::pb::router_interface_service_client::RouterInterfaceServiceClient;
use crate::pb::vpc_service_client::VpcServiceClient;
use crate::{ACCOUNT_B, Service, field, pb, reason};

pub type Vpcs = VpcServiceClient<crate::Client>;
pub type Ris = RouterInterfaceServiceClient<crate::Client>;

pub const HZ: &str = "cn-hangzhou";
pub const SH: &str = "cn-shanghai";
pub const AP_HZ: &str = "ap-cn-hangzhou-yh-B";
pub const AP_HZ_OTHER: &str = "ap-cn-hangzhou-jg-A";
pub const AP_SH: &str = "ap-cn-shanghai-nh-A";
pub const CIDR: &str = "172.16.0.0/12";

/// Well-formed ids that name nothing.
pub const NO_VPC: &str = "vpc-0000000000000000000000";
pub const NO_VROUTER: &str = "vrt-0000000000000000000000";
pub const NO_VBR: &str = "vbr-0000000000000000000000";
pub const NO_RI: &str = "ri-0000000000000000000000";

pub const BAD: Code = Code::InvalidArgument;
pub const NOT_FOUND: Code = Code::NotFound;

/// Asserts that `result` is the refusal a user should see and returns it.
#[track_caller]
pub fn refused<T: std::fmt::Debug>(
    case: &str,
    result: Result<Response<T>, Status>,
    code: Code,
    expected_reason: &str,
    expected_field: Option<&str>,
) -> Status {
    let status = match result {
        Ok(r) => panic!("{case}: expected {code:?} {expected_reason}, but the call succeeded: {:?}", r.into_inner()),
        Err(s) => s,
    };
    assert!(
        !matches!(status.code(), Code::Internal | Code::Unknown),
        "{case}: an internal error is never the answer to bad input: {status:?}"
    );
    assert_eq!(status.code(), code, "{case}: gRPC code (status: {status:?})");
    let got_reason = reason(&status);
    assert!(!got_reason.is_empty(), "{case}: ErrorInfo with a reason (status: {status:?})");
    assert_eq!(got_reason, expected_reason, "{case}: reason (status: {status:?})");
    assert_eq!(field(&status).as_deref(), expected_field, "{case}: field (status: {status:?})");
    status
}

pub fn initiator(vrouter_id: &str) -> pb::CreateRouterInterfaceRequest {
    pb::CreateRouterInterfaceRequest {
        region_id: HZ.into(),
        role: pb::Role::InitiatingSide as i32,
        router_type: pb::RouterType::Vrouter as i32,
        router_id: vrouter_id.into(),
        spec: "Large.1".into(),
        opposite_region_id: SH.into(),
        ..Default::default()
    }
}

pub fn acceptor(vrouter_id: &str) -> pb::CreateRouterInterfaceRequest {
    pb::CreateRouterInterfaceRequest {
        role: pb::Role::AcceptingSide as i32,
        spec: String::new(),
        ..initiator(vrouter_id)
    }
}

pub fn vbr_initiator(vbr_id: &str) -> pb::CreateRouterInterfaceRequest {
    pb::CreateRouterInterfaceRequest {
        router_type: pb::RouterType::Vbr as i32,
        router_id: vbr_id.into(),
        access_point_id: AP_HZ.into(),
        ..initiator("")
    }
}

pub fn same_account_peering(local: &str, peer: &str) -> pb::CreatePeeringConnectionRequest {
    pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Same as i32,
        connection_type: pb::ConnectionType::VpcToVpc as i32,
        routers_to_create: pb::RoutersToCreate::InitiatorAndAcceptor as i32,
        local_region_id: HZ.into(),
        local_router_id: local.into(),
        peer_region_id: HZ.into(),
        peer_router_id: peer.into(),
        bandwidth: "Large.1".into(),
        ..Default::default()
    }
}

/// Initiator Only towards a VPC of account B.
pub fn cross_account_peering(local: &str) -> pb::CreatePeeringConnectionRequest {
    pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VpcToVpc as i32,
        routers_to_create: pb::RoutersToCreate::InitiatorOnly as i32,
        local_region_id: HZ.into(),
        local_router_id: local.into(),
        peer_region_id: SH.into(),
        peer_router_id: "vpc-peerofaccountb000000000".into(),
        peer_account_id: ACCOUNT_B.into(),
        bandwidth: "Large.1".into(),
        ..Default::default()
    }
}

pub async fn create_vbr(vpcs: &mut Vpcs, region: &str, access_point: &str) -> String {
    vpcs.create_virtual_border_router(pb::CreateVirtualBorderRouterRequest {
        region_id: region.into(),
        access_point_id: access_point.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .vbr_id
}

pub async fn create_ri(ris: &mut Ris, request: pb::CreateRouterInterfaceRequest) -> String {
    let what = format!("{request:?}");
    ris.create_router_interface(request)
        .await
        .unwrap_or_else(|e| panic!("CreateRouterInterface {what} failed: {e:?}"))
        .into_inner()
        .router_interface_id
}

pub async fn clients(svc: &Service) -> (Vpcs, Ris) {
    (svc.vpcs().await, svc.router_interfaces().await)
}

pub async fn count_router_interfaces(ris: &mut Ris) -> i32 {
    ris.describe_router_interfaces(pb::DescribeRouterInterfacesRequest { page_size: 50, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .total_count
}
