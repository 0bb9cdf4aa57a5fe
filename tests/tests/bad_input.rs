//! Bad input through the real gRPC API of one initiator service: every RPC refuses malformed ids,
//! unknown enum values, out-of-range periods, bad names and CIDRs and missing fields with the cloud's
//! error code and the field named, never an internal error, and nothing changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use scenario_tests::fixtures::*;
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Binary, Service, create_vpc, describe, pb};
use tonic::{Code, Response, Status};

// ---------------------------------------------------------------------------------------------------
// 1. The bad-input table: every RPC of both services.
// ---------------------------------------------------------------------------------------------------

/// One request to any RPC.
#[derive(Debug, Clone)]
enum Call {
    CreateVpc(pb::CreateVpcRequest),
    DescribeVpcs(pb::DescribeVpcsRequest),
    DeleteVpc(pb::DeleteVpcRequest),
    CreateVbr(pb::CreateVirtualBorderRouterRequest),
    DescribeVbrs(pb::DescribeVirtualBorderRoutersRequest),
    DeleteVbr(pb::DeleteVirtualBorderRouterRequest),
    CreateRouterInterface(pb::CreateRouterInterfaceRequest),
    CreatePeering(pb::CreatePeeringConnectionRequest),
    Modify(pb::ModifyRouterInterfaceAttributeRequest),
    Connect(pb::ConnectRouterInterfaceRequest),
    Deactivate(pb::DeactivateRouterInterfaceRequest),
    Activate(pb::ActivateRouterInterfaceRequest),
    Delete(pb::DeleteRouterInterfaceRequest),
    DescribeRouterInterfaces(pb::DescribeRouterInterfacesRequest),
    DescribeAttribute(pb::DescribeRouterInterfaceAttributeRequest),
}

const ALL_RPCS: [&str; 15] = [
    "CreateVpc",
    "DescribeVpcs",
    "DeleteVpc",
    "CreateVirtualBorderRouter",
    "DescribeVirtualBorderRouters",
    "DeleteVirtualBorderRouter",
    "CreateRouterInterface",
    "CreatePeeringConnection",
    "ModifyRouterInterfaceAttribute",
    "ConnectRouterInterface",
    "DeactivateRouterInterface",
    "ActivateRouterInterface",
    "DeleteRouterInterface",
    "DescribeRouterInterfaces",
    "DescribeRouterInterfaceAttribute",
];

impl Call {
    fn rpc(&self) -> &'static str {
        match self {
            Call::CreateVpc(_) => "CreateVpc",
            Call::DescribeVpcs(_) => "DescribeVpcs",
            Call::DeleteVpc(_) => "DeleteVpc",
            Call::CreateVbr(_) => "CreateVirtualBorderRouter",
            Call::DescribeVbrs(_) => "DescribeVirtualBorderRouters",
            Call::DeleteVbr(_) => "DeleteVirtualBorderRouter",
            Call::CreateRouterInterface(_) => "CreateRouterInterface",
            Call::CreatePeering(_) => "CreatePeeringConnection",
            Call::Modify(_) => "ModifyRouterInterfaceAttribute",
            Call::Connect(_) => "ConnectRouterInterface",
            Call::Deactivate(_) => "DeactivateRouterInterface",
            Call::Activate(_) => "ActivateRouterInterface",
            Call::Delete(_) => "DeleteRouterInterface",
            Call::DescribeRouterInterfaces(_) => "DescribeRouterInterfaces",
            Call::DescribeAttribute(_) => "DescribeRouterInterfaceAttribute",
        }
    }

    /// Sends the request; the answer's body does not matter here, only success or the status.
    async fn send(self, vpcs: &mut Vpcs, ris: &mut Ris) -> Result<Response<()>, Status> {
        fn done<T>(r: Result<Response<T>, Status>) -> Result<Response<()>, Status> {
            r.map(|r| r.map(|_| ()))
        }
        match self {
            Call::CreateVpc(r) => done(vpcs.create_vpc(r).await),
            Call::DescribeVpcs(r) => done(vpcs.describe_vpcs(r).await),
            Call::DeleteVpc(r) => done(vpcs.delete_vpc(r).await),
            Call::CreateVbr(r) => done(vpcs.create_virtual_border_router(r).await),
            Call::DescribeVbrs(r) => done(vpcs.describe_virtual_border_routers(r).await),
            Call::DeleteVbr(r) => done(vpcs.delete_virtual_border_router(r).await),
            Call::CreateRouterInterface(r) => done(ris.create_router_interface(r).await),
            Call::CreatePeering(r) => done(ris.create_peering_connection(r).await),
            Call::Modify(r) => done(ris.modify_router_interface_attribute(r).await),
            Call::Connect(r) => done(ris.connect_router_interface(r).await),
            Call::Deactivate(r) => done(ris.deactivate_router_interface(r).await),
            Call::Activate(r) => done(ris.activate_router_interface(r).await),
            Call::Delete(r) => done(ris.delete_router_interface(r).await),
            Call::DescribeRouterInterfaces(r) => done(ris.describe_router_interfaces(r).await),
            Call::DescribeAttribute(r) => done(ris.describe_router_interface_attribute(r).await),
        }
    }
}

struct Case {
    name: String,
    call: Call,
    code: Code,
    reason: &'static str,
    field: &'static str,
}

#[derive(Default)]
struct Table(Vec<Case>);

impl Table {
    fn add(&mut self, name: impl Into<String>, call: Call, code: Code, reason: &'static str, field: &'static str) {
        self.0.push(Case { name: name.into(), call, code, reason, field });
    }
}

/// Cases every RPC that takes one router interface id shares.
fn id_cases(table: &mut Table, rpc: &str, make: impl Fn(&str, &str) -> Call, supports_token: bool) {
    table.add(format!("{rpc}: empty id"), make("", ""), BAD, "MissingParameter", "router_interface_id");
    for bad in ["ri-ABC", "ri-", "ri-a b", "vrt-abc", "banana"] {
        table.add(
            format!("{rpc}: malformed id {bad:?}"),
            make(bad, ""),
            BAD,
            "InvalidParameter",
            "router_interface_id",
        );
    }
    table.add(
        format!("{rpc}: unknown id"),
        make(NO_RI, ""),
        NOT_FOUND,
        "InvalidRouterInterfaceId.NotFound",
        "router_interface_id",
    );
    if supports_token {
        table.add(
            format!("{rpc}: client_token of 65 characters"),
            make(NO_RI, &"t".repeat(65)),
            BAD,
            "InvalidClientToken.Malformed",
            "client_token",
        );
    }
}

#[tokio::test]
async fn every_rpc_refuses_bad_input_with_its_error_code_and_field() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2_id, _) = create_vpc(&mut vpcs, HZ, "192.168.0.0/16").await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;
    let ri_id = create_ri(&mut ris, initiator(&vrouter_id)).await;

    let name_129 = format!("a{}", "b".repeat(128));
    let description_257 = "d".repeat(257);
    let token_65 = "t".repeat(65);
    let mut t = Table::default();

    // CreateVpc
    let vpc = pb::CreateVpcRequest { region_id: HZ.into(), cidr_block: CIDR.into(), ..Default::default() };
    let c = |r: pb::CreateVpcRequest| Call::CreateVpc(r);
    t.add(
        "CreateVpc: empty region",
        c(pb::CreateVpcRequest { region_id: "".into(), ..vpc.clone() }),
        BAD,
        "MissingParameter",
        "region_id",
    );
    t.add(
        "CreateVpc: unknown region",
        c(pb::CreateVpcRequest { region_id: "mars-1".into(), ..vpc.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    t.add(
        "CreateVpc: empty CIDR",
        c(pb::CreateVpcRequest { cidr_block: "".into(), ..vpc.clone() }),
        BAD,
        "MissingParameter",
        "cidr_block",
    );
    for cidr in ["10.0.0.0/7", "10.0.0.1/8", "banana", "172.16.0.0/29", "172.16.0.0", "300.1.1.0/24", "10.0.0.0/x"] {
        t.add(
            format!("CreateVpc: bad CIDR {cidr:?}"),
            c(pb::CreateVpcRequest { cidr_block: cidr.into(), ..vpc.clone() }),
            BAD,
            "InvalidCidrBlock.Malformed",
            "cidr_block",
        );
    }
    for name in ["a", name_129.as_str(), "1abc", "has space", "http://x.com"] {
        t.add(
            format!("CreateVpc: bad name of {} chars {:.12?}", name.chars().count(), name),
            c(pb::CreateVpcRequest { vpc_name: name.into(), ..vpc.clone() }),
            BAD,
            "InvalidName.Malformed",
            "vpc_name",
        );
    }
    for description in ["x", description_257.as_str(), "http://example.com", "https://example.com"] {
        t.add(
            format!("CreateVpc: bad description of {} chars {:.12?}", description.chars().count(), description),
            c(pb::CreateVpcRequest { description: description.into(), ..vpc.clone() }),
            BAD,
            "InvalidDescription.Malformed",
            "description",
        );
    }
    t.add(
        "CreateVpc: client_token of 65 characters",
        c(pb::CreateVpcRequest { client_token: token_65.clone(), ..vpc.clone() }),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );
    t.add(
        "CreateVpc: client_token with a space",
        c(pb::CreateVpcRequest { client_token: "a b".into(), ..vpc.clone() }),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // DescribeVpcs
    let dv = |r: pb::DescribeVpcsRequest| Call::DescribeVpcs(r);
    for size in [51, -1, i32::MAX] {
        t.add(
            format!("DescribeVpcs: page_size {size}"),
            dv(pb::DescribeVpcsRequest { page_size: size, ..Default::default() }),
            BAD,
            "InvalidParameter",
            "page_size",
        );
    }
    t.add(
        "DescribeVpcs: page_number -1",
        dv(pb::DescribeVpcsRequest { page_number: -1, ..Default::default() }),
        BAD,
        "InvalidParameter",
        "page_number",
    );
    t.add(
        "DescribeVpcs: unknown region",
        dv(pb::DescribeVpcsRequest { region_id: "mars-1".into(), ..Default::default() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    for bad in ["vpc-ABC", "vbr-abc", "banana", vrouter_id.as_str()] {
        t.add(
            format!("DescribeVpcs: malformed vpc id {bad:?}"),
            dv(pb::DescribeVpcsRequest { vpc_ids: vec![vpc_id.clone(), bad.into()], ..Default::default() }),
            BAD,
            "InvalidParameter",
            "vpc_ids",
        );
    }

    // DeleteVpc
    let delv =
        |id: &str, token: &str| Call::DeleteVpc(pb::DeleteVpcRequest { vpc_id: id.into(), client_token: token.into() });
    t.add("DeleteVpc: empty id", delv("", ""), BAD, "MissingParameter", "vpc_id");
    for bad in ["vpc-ABC", "vpc-", "vbr-abc", "banana", vrouter_id.as_str()] {
        t.add(format!("DeleteVpc: malformed id {bad:?}"), delv(bad, ""), BAD, "InvalidParameter", "vpc_id");
    }
    t.add("DeleteVpc: unknown id", delv(NO_VPC, ""), NOT_FOUND, "InvalidVpcId.NotFound", "vpc_id");
    t.add(
        "DeleteVpc: client_token of 65 characters",
        delv(&vpc_id, &token_65),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // CreateVirtualBorderRouter
    let vbr = pb::CreateVirtualBorderRouterRequest {
        region_id: HZ.into(),
        access_point_id: AP_HZ.into(),
        ..Default::default()
    };
    let cv = |r: pb::CreateVirtualBorderRouterRequest| Call::CreateVbr(r);
    t.add(
        "CreateVirtualBorderRouter: empty region",
        cv(pb::CreateVirtualBorderRouterRequest { region_id: "".into(), ..vbr.clone() }),
        BAD,
        "MissingParameter",
        "region_id",
    );
    t.add(
        "CreateVirtualBorderRouter: unknown region",
        cv(pb::CreateVirtualBorderRouterRequest { region_id: "mars-1".into(), ..vbr.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    t.add(
        "CreateVirtualBorderRouter: empty access point",
        cv(pb::CreateVirtualBorderRouterRequest { access_point_id: "".into(), ..vbr.clone() }),
        BAD,
        "MissingParameter",
        "access_point_id",
    );
    for ap in [AP_SH, "ap-nowhere-A"] {
        t.add(
            format!("CreateVirtualBorderRouter: access point {ap:?} not in cn-hangzhou"),
            cv(pb::CreateVirtualBorderRouterRequest { access_point_id: ap.into(), ..vbr.clone() }),
            NOT_FOUND,
            "InvalidAccessPointId.NotFound",
            "access_point_id",
        );
    }
    for name in ["a", name_129.as_str(), "1abc"] {
        t.add(
            format!("CreateVirtualBorderRouter: bad name of {} chars", name.chars().count()),
            cv(pb::CreateVirtualBorderRouterRequest { name: name.into(), ..vbr.clone() }),
            BAD,
            "InvalidName.Malformed",
            "name",
        );
    }
    for description in ["x", description_257.as_str(), "http://example.com"] {
        t.add(
            format!("CreateVirtualBorderRouter: bad description of {} chars", description.chars().count()),
            cv(pb::CreateVirtualBorderRouterRequest { description: description.into(), ..vbr.clone() }),
            BAD,
            "InvalidDescription.Malformed",
            "description",
        );
    }
    t.add(
        "CreateVirtualBorderRouter: client_token of 65 characters",
        cv(pb::CreateVirtualBorderRouterRequest { client_token: token_65.clone(), ..vbr.clone() }),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // DescribeVirtualBorderRouters
    let dvb = |r: pb::DescribeVirtualBorderRoutersRequest| Call::DescribeVbrs(r);
    for size in [51, -1] {
        t.add(
            format!("DescribeVirtualBorderRouters: page_size {size}"),
            dvb(pb::DescribeVirtualBorderRoutersRequest { page_size: size, ..Default::default() }),
            BAD,
            "InvalidParameter",
            "page_size",
        );
    }
    t.add(
        "DescribeVirtualBorderRouters: page_number -1",
        dvb(pb::DescribeVirtualBorderRoutersRequest { page_number: -1, ..Default::default() }),
        BAD,
        "InvalidParameter",
        "page_number",
    );
    t.add(
        "DescribeVirtualBorderRouters: unknown region",
        dvb(pb::DescribeVirtualBorderRoutersRequest { region_id: "mars-1".into(), ..Default::default() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    for bad in ["vbr-ABC", "banana", vpc_id.as_str()] {
        t.add(
            format!("DescribeVirtualBorderRouters: malformed vbr id {bad:?}"),
            dvb(pb::DescribeVirtualBorderRoutersRequest { vbr_ids: vec![bad.into()], ..Default::default() }),
            BAD,
            "InvalidParameter",
            "vbr_ids",
        );
    }

    // DeleteVirtualBorderRouter
    let delb = |id: &str, token: &str| {
        Call::DeleteVbr(pb::DeleteVirtualBorderRouterRequest { vbr_id: id.into(), client_token: token.into() })
    };
    t.add("DeleteVirtualBorderRouter: empty id", delb("", ""), BAD, "MissingParameter", "vbr_id");
    for bad in ["vbr-ABC", "vbr-", "banana", vpc_id.as_str()] {
        t.add(
            format!("DeleteVirtualBorderRouter: malformed id {bad:?}"),
            delb(bad, ""),
            BAD,
            "InvalidParameter",
            "vbr_id",
        );
    }
    t.add("DeleteVirtualBorderRouter: unknown id", delb(NO_VBR, ""), NOT_FOUND, "InvalidVbrId.NotFound", "vbr_id");
    t.add(
        "DeleteVirtualBorderRouter: client_token of 65 characters",
        delb(&vbr_id, &token_65),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // CreateRouterInterface
    let ri = initiator(&vrouter_id);
    let on_vbr = vbr_initiator(&vbr_id);
    let cr = |r: pb::CreateRouterInterfaceRequest| Call::CreateRouterInterface(r);
    let cri = |name: &str| format!("CreateRouterInterface: {name}");
    type Ri = pb::CreateRouterInterfaceRequest;
    t.add(cri("empty region"), cr(Ri { region_id: "".into(), ..ri.clone() }), BAD, "MissingParameter", "region_id");
    t.add(
        cri("unknown region"),
        cr(Ri { region_id: "mars-1".into(), ..ri.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    t.add(
        cri("region other than the router's"),
        cr(Ri { region_id: SH.into(), ..ri.clone() }),
        BAD,
        "InvalidRegionId.Mismatch",
        "region_id",
    );
    t.add(cri("role unspecified"), cr(Ri { role: 0, ..ri.clone() }), BAD, "MissingParameter", "role");
    t.add(cri("role 99"), cr(Ri { role: 99, ..ri.clone() }), BAD, "InvalidParameter", "role");
    t.add(cri("role -1"), cr(Ri { role: -1, ..ri.clone() }), BAD, "InvalidParameter", "role");
    t.add(
        cri("router_type unspecified"),
        cr(Ri { router_type: 0, ..ri.clone() }),
        BAD,
        "MissingParameter",
        "router_type",
    );
    t.add(cri("router_type 99"), cr(Ri { router_type: 99, ..ri.clone() }), BAD, "InvalidParameter", "router_type");
    t.add(cri("empty router_id"), cr(Ri { router_id: "".into(), ..ri.clone() }), BAD, "MissingParameter", "router_id");
    for bad in ["vrt-ABC", "vbr-abc", "banana", vpc_id.as_str()] {
        t.add(
            cri(&format!("VRouter with router_id {bad:?}")),
            cr(Ri { router_id: bad.into(), ..ri.clone() }),
            BAD,
            "InvalidParameter",
            "router_id",
        );
    }
    t.add(
        cri("unknown vRouter"),
        cr(Ri { router_id: NO_VROUTER.into(), ..ri.clone() }),
        NOT_FOUND,
        "InvalidRouterId.NotFound",
        "router_id",
    );
    t.add(
        cri("access point on a VRouter"),
        cr(Ri { access_point_id: AP_HZ.into(), ..ri.clone() }),
        BAD,
        "InvalidParameter",
        "access_point_id",
    );
    t.add(
        cri("VBR with a vRouter id"),
        cr(Ri { router_id: vrouter_id.clone(), ..on_vbr.clone() }),
        BAD,
        "InvalidParameter",
        "router_id",
    );
    t.add(
        cri("unknown VBR"),
        cr(Ri { router_id: NO_VBR.into(), ..on_vbr.clone() }),
        NOT_FOUND,
        "InvalidVbrId.NotFound",
        "router_id",
    );
    t.add(
        cri("VBR without access point"),
        cr(Ri { access_point_id: "".into(), ..on_vbr.clone() }),
        BAD,
        "MissingParameter",
        "access_point_id",
    );
    for ap in [AP_SH, "ap-nowhere-A"] {
        t.add(
            cri(&format!("VBR at access point {ap:?}")),
            cr(Ri { access_point_id: ap.into(), ..on_vbr.clone() }),
            NOT_FOUND,
            "InvalidAccessPointId.NotFound",
            "access_point_id",
        );
    }
    t.add(
        cri("VBR at an access point other than its own"),
        cr(Ri { access_point_id: AP_HZ_OTHER.into(), ..on_vbr.clone() }),
        BAD,
        "InvalidAccessPointId.Mismatch",
        "access_point_id",
    );
    t.add(
        cri("acceptor on a VBR"),
        cr(Ri { role: pb::Role::AcceptingSide as i32, spec: "".into(), ..on_vbr.clone() }),
        BAD,
        "InvalidRouterType.AcceptingSide",
        "router_type",
    );
    t.add(cri("initiator without spec"), cr(Ri { spec: "".into(), ..ri.clone() }), BAD, "MissingParameter", "spec");
    for spec in ["Huge.9", "large.1", "Negative", "1000"] {
        t.add(cri(&format!("spec {spec:?}")), cr(Ri { spec: spec.into(), ..ri.clone() }), BAD, "InvalidSpec", "spec");
    }
    t.add(
        cri("acceptor with spec Large.1"),
        cr(Ri { spec: "Large.1".into(), ..acceptor(&vrouter_id) }),
        BAD,
        "InvalidSpec",
        "spec",
    );
    t.add(
        cri("empty opposite region"),
        cr(Ri { opposite_region_id: "".into(), ..ri.clone() }),
        BAD,
        "MissingParameter",
        "opposite_region_id",
    );
    t.add(
        cri("unknown opposite region"),
        cr(Ri { opposite_region_id: "mars-1".into(), ..ri.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "opposite_region_id",
    );
    t.add(
        cri("opposite_router_type 99"),
        cr(Ri { opposite_router_type: 99, ..ri.clone() }),
        BAD,
        "InvalidParameter",
        "opposite_router_type",
    );
    for bad in ["banana", "vrt-ABC", "vpc-abc"] {
        t.add(
            cri(&format!("opposite_router_id {bad:?}")),
            cr(Ri { opposite_router_id: bad.into(), ..ri.clone() }),
            BAD,
            "InvalidParameter",
            "opposite_router_id",
        );
    }
    t.add(
        cri("opposite_router_id a vbr- id with type VROUTER"),
        cr(Ri {
            opposite_router_id: "vbr-abc".into(),
            opposite_router_type: pb::RouterType::Vrouter as i32,
            ..ri.clone()
        }),
        BAD,
        "InvalidParameter",
        "opposite_router_id",
    );
    t.add(
        cri("initiator whose opposite is a VBR"),
        cr(Ri { opposite_router_id: "vbr-abc".into(), ..ri.clone() }),
        BAD,
        "InvalidRouterType.AcceptingSide",
        "opposite_router_type",
    );
    for bad in ["ri-ABC", "vrt-abc", "banana"] {
        t.add(
            cri(&format!("opposite_interface_id {bad:?}")),
            cr(Ri { opposite_interface_id: bad.into(), ..ri.clone() }),
            BAD,
            "InvalidParameter",
            "opposite_interface_id",
        );
    }
    for bad in ["123", "10000000000000012", "10000000000000a1"] {
        t.add(
            cri(&format!("opposite_interface_owner_id {bad:?}")),
            cr(Ri { opposite_interface_owner_id: bad.into(), ..ri.clone() }),
            BAD,
            "InvalidParameter",
            "opposite_interface_owner_id",
        );
    }
    t.add(
        cri("opposite access point outside the opposite region"),
        cr(Ri { opposite_access_point_id: AP_HZ.into(), ..ri.clone() }),
        NOT_FOUND,
        "InvalidAccessPointId.NotFound",
        "opposite_access_point_id",
    );
    t.add(
        cri("instance_charge_type 99"),
        cr(Ri { instance_charge_type: 99, ..ri.clone() }),
        BAD,
        "InvalidParameter",
        "instance_charge_type",
    );
    t.add(
        cri("pricing_cycle 99"),
        cr(Ri {
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: 99,
            period: 1,
            ..ri.clone()
        }),
        BAD,
        "InvalidParameter",
        "pricing_cycle",
    );
    let prepaid = |cycle: pb::PricingCycle, period: i32| Ri {
        instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
        pricing_cycle: cycle as i32,
        period,
        ..ri.clone()
    };
    for (cycle, period) in [
        (pb::PricingCycle::Month, 10),
        (pb::PricingCycle::Month, 0),
        (pb::PricingCycle::Month, -1),
        (pb::PricingCycle::Year, 4),
        (pb::PricingCycle::Year, 0),
        (pb::PricingCycle::Year, 12),
    ] {
        t.add(cri(&format!("PrePaid {cycle:?} {period}")), cr(prepaid(cycle, period)), BAD, "InvalidPeriod", "period");
    }
    t.add(
        cri("PrePaid without pricing cycle"),
        cr(prepaid(pb::PricingCycle::Unspecified, 1)),
        BAD,
        "MissingParameter",
        "pricing_cycle",
    );
    for charge in [pb::InstanceChargeType::Postpaid, pb::InstanceChargeType::Unspecified] {
        t.add(
            cri(&format!("{charge:?} with period 3")),
            cr(Ri { instance_charge_type: charge as i32, period: 3, ..ri.clone() }),
            BAD,
            "InvalidPeriod",
            "period",
        );
    }
    t.add(
        cri("PostPaid with pricing cycle Month"),
        cr(Ri {
            instance_charge_type: pb::InstanceChargeType::Postpaid as i32,
            pricing_cycle: pb::PricingCycle::Month as i32,
            ..ri.clone()
        }),
        BAD,
        "InvalidPeriod",
        "pricing_cycle",
    );
    t.add(
        cri("PostPaid with auto_renew"),
        cr(Ri { instance_charge_type: pb::InstanceChargeType::Postpaid as i32, auto_renew: true, ..ri.clone() }),
        BAD,
        "InvalidPeriod",
        "auto_renew",
    );
    t.add(
        cri("PrePaid acceptor"),
        cr(Ri {
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Month as i32,
            period: 1,
            ..acceptor(&vrouter_id)
        }),
        BAD,
        "OperationUnsupported.PrePaidAcceptor",
        "instance_charge_type",
    );
    for name in ["a", name_129.as_str(), "1abc", "http://x.com"] {
        t.add(
            cri(&format!("bad name of {} chars {:.12?}", name.chars().count(), name)),
            cr(Ri { name: name.into(), ..ri.clone() }),
            BAD,
            "InvalidName.Malformed",
            "name",
        );
    }
    for description in ["x", description_257.as_str(), "http://example.com", "https://example.com"] {
        t.add(
            cri(&format!("bad description of {} chars {:.12?}", description.chars().count(), description)),
            cr(Ri { description: description.into(), ..ri.clone() }),
            BAD,
            "InvalidDescription.Malformed",
            "description",
        );
    }
    t.add(
        cri("health check source not an address"),
        cr(Ri { health_check_source_ip: "banana".into(), health_check_target_ip: "10.0.0.2".into(), ..ri.clone() }),
        BAD,
        "InvalidIpAddress.Malformed",
        "health_check_source_ip",
    );
    t.add(
        cri("health check source without target"),
        cr(Ri { health_check_source_ip: "10.0.0.1".into(), ..ri.clone() }),
        BAD,
        "MissingParameter",
        "health_check_target_ip",
    );
    t.add(
        cri("client_token of 65 characters"),
        cr(Ri { client_token: token_65.clone(), ..ri.clone() }),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // CreatePeeringConnection
    type Pc = pb::CreatePeeringConnectionRequest;
    let same = same_account_peering(&vpc_id, &vpc2_id);
    let diff = cross_account_peering(&vpc_id);
    let cp = |r: Pc| Call::CreatePeering(r);
    let cpc = |name: &str| format!("CreatePeeringConnection: {name}");
    t.add(
        cpc("account_type unspecified"),
        cp(Pc { account_type: 0, ..same.clone() }),
        BAD,
        "MissingParameter",
        "account_type",
    );
    t.add(cpc("account_type 99"), cp(Pc { account_type: 99, ..same.clone() }), BAD, "InvalidParameter", "account_type");
    t.add(
        cpc("connection_type unspecified"),
        cp(Pc { connection_type: 0, ..same.clone() }),
        BAD,
        "MissingParameter",
        "connection_type",
    );
    t.add(
        cpc("connection_type 99"),
        cp(Pc { connection_type: 99, ..same.clone() }),
        BAD,
        "InvalidParameter",
        "connection_type",
    );
    t.add(
        cpc("routers_to_create unspecified"),
        cp(Pc { routers_to_create: 0, ..same.clone() }),
        BAD,
        "MissingParameter",
        "routers_to_create",
    );
    t.add(
        cpc("routers_to_create 99"),
        cp(Pc { routers_to_create: 99, ..same.clone() }),
        BAD,
        "InvalidParameter",
        "routers_to_create",
    );
    for routers in [pb::RoutersToCreate::InitiatorOnly, pb::RoutersToCreate::AcceptorOnly] {
        t.add(
            cpc(&format!("same account with {routers:?}")),
            cp(Pc { routers_to_create: routers as i32, ..same.clone() }),
            BAD,
            "OperationUnsupported.RoutersToCreate",
            "routers_to_create",
        );
    }
    t.add(
        cpc("different accounts with InitiatorAndAcceptor"),
        cp(Pc { routers_to_create: pb::RoutersToCreate::InitiatorAndAcceptor as i32, ..diff.clone() }),
        BAD,
        "OperationUnsupported.RoutersToCreate",
        "routers_to_create",
    );
    t.add(
        cpc("same account naming another account"),
        cp(Pc { peer_account_id: ACCOUNT_B.into(), ..same.clone() }),
        BAD,
        "InvalidParameter",
        "peer_account_id",
    );
    t.add(
        cpc("different accounts without peer account"),
        cp(Pc { peer_account_id: "".into(), ..diff.clone() }),
        BAD,
        "MissingParameter",
        "peer_account_id",
    );
    for bad in ["123", "100000000000000x", ACCOUNT_A] {
        t.add(
            cpc(&format!("different accounts with peer account {bad:?}")),
            cp(Pc { peer_account_id: bad.into(), ..diff.clone() }),
            BAD,
            "InvalidParameter",
            "peer_account_id",
        );
    }
    t.add(
        cpc("malformed peer_interface_id"),
        cp(Pc { peer_interface_id: "ri-ABC".into(), ..diff.clone() }),
        BAD,
        "InvalidParameter",
        "peer_interface_id",
    );
    t.add(
        cpc("empty local router"),
        cp(Pc { local_router_id: "".into(), ..same.clone() }),
        BAD,
        "MissingParameter",
        "local_router_id",
    );
    for bad in ["banana", "vpc-ABC", vrouter_id.as_str(), vbr_id.as_str()] {
        t.add(
            cpc(&format!("VPC-to-VPC with local router {bad:?}")),
            cp(Pc { local_router_id: bad.into(), ..same.clone() }),
            BAD,
            "InvalidParameter",
            "local_router_id",
        );
    }
    t.add(
        cpc("VBR-to-VPC Initiator Only from a VPC"),
        cp(Pc { connection_type: pb::ConnectionType::VbrToVpc as i32, ..diff.clone() }),
        BAD,
        "InvalidParameter",
        "local_router_id",
    );
    t.add(
        cpc("empty peer router"),
        cp(Pc { peer_router_id: "".into(), ..same.clone() }),
        BAD,
        "MissingParameter",
        "peer_router_id",
    );
    for bad in ["banana", "vbr-abc", "vrt-abc"] {
        t.add(
            cpc(&format!("peer router {bad:?}")),
            cp(Pc { peer_router_id: bad.into(), ..same.clone() }),
            BAD,
            "InvalidParameter",
            "peer_router_id",
        );
    }
    t.add(
        cpc("unknown local VPC"),
        cp(Pc { local_router_id: NO_VPC.into(), ..same.clone() }),
        NOT_FOUND,
        "InvalidVpcId.NotFound",
        "local_router_id",
    );
    t.add(
        cpc("unknown peer VPC in the same account"),
        cp(Pc { peer_router_id: NO_VPC.into(), ..same.clone() }),
        NOT_FOUND,
        "InvalidVpcId.NotFound",
        "peer_router_id",
    );
    t.add(
        cpc("unknown local VPC, different accounts"),
        cp(Pc { local_router_id: NO_VPC.into(), ..diff.clone() }),
        NOT_FOUND,
        "InvalidVpcId.NotFound",
        "local_router_id",
    );
    t.add(
        cpc("unknown local VBR for VBR-to-VPC"),
        cp(Pc { connection_type: pb::ConnectionType::VbrToVpc as i32, local_router_id: NO_VBR.into(), ..same.clone() }),
        NOT_FOUND,
        "InvalidVbrId.NotFound",
        "local_router_id",
    );
    t.add(
        cpc("the same VPC at both ends"),
        cp(Pc { peer_router_id: vpc_id.clone(), ..same.clone() }),
        BAD,
        "IncorrectOppositeInterfaceInfo",
        "peer_router_id",
    );
    t.add(
        cpc("empty local region"),
        cp(Pc { local_region_id: "".into(), ..same.clone() }),
        BAD,
        "MissingParameter",
        "local_region_id",
    );
    t.add(
        cpc("unknown local region"),
        cp(Pc { local_region_id: "mars-1".into(), ..same.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "local_region_id",
    );
    t.add(
        cpc("local region other than the VPC's"),
        cp(Pc { local_region_id: SH.into(), ..same.clone() }),
        BAD,
        "InvalidRegionId.Mismatch",
        "local_region_id",
    );
    t.add(
        cpc("empty peer region"),
        cp(Pc { peer_region_id: "".into(), ..diff.clone() }),
        BAD,
        "MissingParameter",
        "peer_region_id",
    );
    t.add(
        cpc("unknown peer region"),
        cp(Pc { peer_region_id: "mars-1".into(), ..diff.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "peer_region_id",
    );
    t.add(
        cpc("unknown peer region, same account"),
        cp(Pc { peer_region_id: "mars-1".into(), ..same.clone() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "peer_region_id",
    );
    t.add(
        cpc("empty bandwidth"),
        cp(Pc { bandwidth: "".into(), ..same.clone() }),
        BAD,
        "MissingParameter",
        "bandwidth",
    );
    for spec in ["Huge.9", "Negative"] {
        t.add(
            cpc(&format!("bandwidth {spec:?}")),
            cp(Pc { bandwidth: spec.into(), ..same.clone() }),
            BAD,
            "InvalidSpec",
            "bandwidth",
        );
    }
    t.add(
        cpc("instance_charge_type 99"),
        cp(Pc { instance_charge_type: 99, ..same.clone() }),
        BAD,
        "InvalidParameter",
        "instance_charge_type",
    );
    t.add(
        cpc("pricing_cycle 99"),
        cp(Pc {
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: 99,
            period: 1,
            ..same.clone()
        }),
        BAD,
        "InvalidParameter",
        "pricing_cycle",
    );
    for (cycle, period) in [(pb::PricingCycle::Month, 10), (pb::PricingCycle::Month, 0), (pb::PricingCycle::Year, 4)] {
        t.add(
            cpc(&format!("PrePaid {cycle:?} {period}")),
            cp(Pc {
                instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
                pricing_cycle: cycle as i32,
                period,
                ..same.clone()
            }),
            BAD,
            "InvalidPeriod",
            "period",
        );
    }
    t.add(
        cpc("PostPaid with period 3"),
        cp(Pc { instance_charge_type: pb::InstanceChargeType::Postpaid as i32, period: 3, ..same.clone() }),
        BAD,
        "InvalidPeriod",
        "period",
    );
    t.add(
        cpc("Acceptor Only, PrePaid"),
        cp(Pc {
            routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Month as i32,
            period: 1,
            ..diff.clone()
        }),
        BAD,
        "OperationUnsupported.PrePaidAcceptor",
        "instance_charge_type",
    );
    for name in ["a", name_129.as_str()] {
        t.add(
            cpc(&format!("bad name of {} chars", name.chars().count())),
            cp(Pc { name: name.into(), ..same.clone() }),
            BAD,
            "InvalidName.Malformed",
            "name",
        );
    }
    for description in [description_257.as_str(), "http://example.com"] {
        t.add(
            cpc(&format!("bad description of {} chars", description.chars().count())),
            cp(Pc { description: description.into(), ..same.clone() }),
            BAD,
            "InvalidDescription.Malformed",
            "description",
        );
    }
    t.add(
        cpc("client_token of 65 characters"),
        cp(Pc { client_token: token_65.clone(), ..same.clone() }),
        BAD,
        "InvalidClientToken.Malformed",
        "client_token",
    );

    // ModifyRouterInterfaceAttribute
    type Mo = pb::ModifyRouterInterfaceAttributeRequest;
    let modify = Mo { router_interface_id: ri_id.clone(), ..Default::default() };
    let mo = |r: Mo| Call::Modify(r);
    let mri = |name: &str| format!("ModifyRouterInterfaceAttribute: {name}");
    id_cases(
        &mut t,
        "ModifyRouterInterfaceAttribute",
        |id, token| {
            Call::Modify(Mo {
                router_interface_id: id.into(),
                name: Some("ok-name".into()),
                client_token: token.into(),
                ..Default::default()
            })
        },
        true,
    );
    for name in ["a", name_129.as_str(), "1abc"] {
        t.add(
            mri(&format!("bad name of {} chars", name.chars().count())),
            mo(Mo { name: Some(name.into()), ..modify.clone() }),
            BAD,
            "InvalidName.Malformed",
            "name",
        );
    }
    for description in ["x", description_257.as_str(), "https://example.com"] {
        t.add(
            mri(&format!("bad description of {} chars", description.chars().count())),
            mo(Mo { description: Some(description.into()), ..modify.clone() }),
            BAD,
            "InvalidDescription.Malformed",
            "description",
        );
    }
    t.add(
        mri("opposite_router_type 99"),
        mo(Mo { opposite_router_type: 99, ..modify.clone() }),
        BAD,
        "InvalidParameter",
        "opposite_router_type",
    );
    for bad in ["ri-ABC", "banana"] {
        t.add(
            mri(&format!("opposite_interface_id {bad:?}")),
            mo(Mo { opposite_interface_id: Some(bad.into()), ..modify.clone() }),
            BAD,
            "InvalidParameter",
            "opposite_interface_id",
        );
    }
    t.add(
        mri("opposite_interface_owner_id of 2 digits"),
        mo(Mo { opposite_interface_owner_id: Some("12".into()), ..modify.clone() }),
        BAD,
        "InvalidParameter",
        "opposite_interface_owner_id",
    );
    for bad in ["banana", "vrt-ABC"] {
        t.add(
            mri(&format!("opposite_router_id {bad:?}")),
            mo(Mo { opposite_router_id: Some(bad.into()), ..modify.clone() }),
            BAD,
            "InvalidParameter",
            "opposite_router_id",
        );
    }
    t.add(
        mri("an initiator's opposite made a VBR"),
        mo(Mo { opposite_router_id: Some("vbr-abc".into()), ..modify.clone() }),
        BAD,
        "InvalidRouterType.AcceptingSide",
        "opposite_router_type",
    );
    t.add(
        mri("health check source not an address"),
        mo(Mo {
            health_check_source_ip: Some("1.2.3".into()),
            health_check_target_ip: Some("10.0.0.2".into()),
            ..modify.clone()
        }),
        BAD,
        "InvalidIpAddress.Malformed",
        "health_check_source_ip",
    );
    t.add(
        mri("health check target without source"),
        mo(Mo { health_check_target_ip: Some("10.0.0.2".into()), ..modify.clone() }),
        BAD,
        "MissingParameter",
        "health_check_source_ip",
    );

    // The calls that take nothing but an id.
    id_cases(
        &mut t,
        "ConnectRouterInterface",
        |id, token| {
            Call::Connect(pb::ConnectRouterInterfaceRequest {
                router_interface_id: id.into(),
                client_token: token.into(),
            })
        },
        true,
    );
    id_cases(
        &mut t,
        "DeactivateRouterInterface",
        |id, token| {
            Call::Deactivate(pb::DeactivateRouterInterfaceRequest {
                router_interface_id: id.into(),
                client_token: token.into(),
            })
        },
        true,
    );
    id_cases(
        &mut t,
        "ActivateRouterInterface",
        |id, token| {
            Call::Activate(pb::ActivateRouterInterfaceRequest {
                router_interface_id: id.into(),
                client_token: token.into(),
            })
        },
        true,
    );
    id_cases(
        &mut t,
        "DeleteRouterInterface",
        |id, token| {
            Call::Delete(pb::DeleteRouterInterfaceRequest {
                router_interface_id: id.into(),
                client_token: token.into(),
            })
        },
        true,
    );
    id_cases(
        &mut t,
        "DescribeRouterInterfaceAttribute",
        |id, _| Call::DescribeAttribute(pb::DescribeRouterInterfaceAttributeRequest { router_interface_id: id.into() }),
        false,
    );

    // DescribeRouterInterfaces
    type Dr = pb::DescribeRouterInterfacesRequest;
    let dr = |r: Dr| Call::DescribeRouterInterfaces(r);
    for size in [51, -1] {
        t.add(
            format!("DescribeRouterInterfaces: page_size {size}"),
            dr(Dr { page_size: size, ..Default::default() }),
            BAD,
            "InvalidParameter",
            "page_size",
        );
    }
    t.add(
        "DescribeRouterInterfaces: page_number -1",
        dr(Dr { page_number: -1, ..Default::default() }),
        BAD,
        "InvalidParameter",
        "page_number",
    );
    t.add(
        "DescribeRouterInterfaces: status 99",
        dr(Dr { status: 99, ..Default::default() }),
        BAD,
        "InvalidParameter",
        "status",
    );
    t.add(
        "DescribeRouterInterfaces: role 99",
        dr(Dr { role: 99, ..Default::default() }),
        BAD,
        "InvalidParameter",
        "role",
    );
    t.add(
        "DescribeRouterInterfaces: unknown region",
        dr(Dr { region_id: "mars-1".into(), ..Default::default() }),
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        "region_id",
    );
    for bad in ["ri-ABC", "banana", ""] {
        let reason = if bad.is_empty() { "MissingParameter" } else { "InvalidParameter" };
        t.add(
            format!("DescribeRouterInterfaces: malformed router interface id {bad:?}"),
            dr(Dr { router_interface_ids: vec![ri_id.clone(), bad.into()], ..Default::default() }),
            BAD,
            reason,
            "router_interface_ids",
        );
    }
    for bad in ["banana", "vrt-ABC", "vbr-", vpc_id.as_str()] {
        t.add(
            format!("DescribeRouterInterfaces: malformed router id {bad:?}"),
            dr(Dr { router_id: bad.into(), ..Default::default() }),
            BAD,
            "InvalidParameter",
            "router_id",
        );
    }

    // Every RPC of both services is in the table.
    let covered: BTreeSet<&str> = t.0.iter().map(|c| c.call.rpc()).collect();
    let missing: Vec<_> = ALL_RPCS.iter().filter(|rpc| !covered.contains(*rpc)).collect();
    assert!(missing.is_empty(), "RPCs without a bad-input case: {missing:?}");

    let total = t.0.len();
    for case in t.0 {
        let result = case.call.send(&mut vpcs, &mut ris).await;
        refused(&case.name, result, case.code, case.reason, Some(case.field));
    }
    println!("{total} bad-input cases refused as expected");

    // Refused calls change nothing: the account holds exactly what the setup created.
    let listed = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.total_count, 2, "no VPC was created or deleted by a refused call");
    let listed = vpcs
        .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_count, 1, "no VBR was created or deleted by a refused call");
    assert_eq!(count_router_interfaces(&mut ris).await, 1, "no router interface was created by a refused call");
    let unchanged = describe(&mut ris, &ri_id).await;
    assert_eq!(
        (unchanged.name.as_str(), unchanged.version),
        ("", 1),
        "the refused modifications left the interface as created"
    );

    // The base requests the cases were derived from are themselves accepted, so each case failed for the
    // one thing it changed.
    vpcs.create_vpc(vpc).await.expect("the base CreateVpc is valid");
    vpcs.create_virtual_border_router(vbr).await.expect("the base CreateVirtualBorderRouter is valid");
    ris.create_router_interface(ri).await.expect("the base CreateRouterInterface is valid");
    ris.create_router_interface(on_vbr).await.expect("the base VBR CreateRouterInterface is valid");
    ris.create_router_interface(acceptor(&vrouter_id)).await.expect("the base acceptor is valid");
    ris.create_peering_connection(diff).await.expect("the base Initiator Only peering is valid");
    ris.modify_router_interface_attribute(Mo { name: Some("ok-name".into()), ..modify })
        .await
        .expect("the base ModifyRouterInterfaceAttribute is valid");
    ris.describe_router_interfaces(Dr { router_id: vrouter_id.clone(), ..Default::default() })
        .await
        .expect("filtering by a well-formed router id is valid");
    // Last: it uses the fifth interface on the VPC's vRouter.
    ris.create_peering_connection(same).await.expect("the base same-account peering is valid");
}
