//! The creation rules of the seed and the real API, one test each, through the real gRPC API of one
//! initiator service, each refused with the cloud's error code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scenario_tests::fixtures::*;
use scenario_tests::{ACCOUNT_B, Binary, Service, create_vpc, describe, pb, status_of};
use tonic::Code;

// ---------------------------------------------------------------------------------------------------
// 2. The creation rules, one test each.
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_vbr_can_only_be_an_initiator() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;

    let acceptor_on_vbr = pb::CreateRouterInterfaceRequest {
        role: pb::Role::AcceptingSide as i32,
        spec: String::new(),
        ..vbr_initiator(&vbr_id)
    };
    let result = ris.create_router_interface(acceptor_on_vbr).await;
    let status = refused("acceptor on a VBR", result, BAD, "InvalidRouterType.AcceptingSide", Some("router_type"));
    assert!(status.message().contains("VBR"), "the message says why: {}", status.message());

    let id = create_ri(&mut ris, vbr_initiator(&vbr_id)).await;
    let ri = describe(&mut ris, &id).await;
    assert_eq!(
        (ri.role(), ri.router_type(), ri.router_id.as_str(), ri.access_point_id.as_str()),
        (pb::Role::InitiatingSide, pb::RouterType::Vbr, vbr_id.as_str(), AP_HZ)
    );
    assert_eq!(count_router_interfaces(&mut ris).await, 1, "only the initiator exists");
}

#[tokio::test]
async fn an_acceptor_is_only_on_a_vpc() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;

    // An initiator cannot name a VBR as its opposite: the opposite is an acceptor.
    let result = ris
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            opposite_router_id: "vbr-someoneelses".into(),
            opposite_region_id: HZ.into(),
            ..initiator(&vrouter_id)
        })
        .await;
    refused("initiator towards a VBR", result, BAD, "InvalidRouterType.AcceptingSide", Some("opposite_router_type"));

    // Acceptor Only on a VBR: the acceptor's router must be a VPC.
    let result = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
            local_router_id: vbr_id.clone(),
            ..cross_account_peering("")
        })
        .await;
    refused("Acceptor Only on a VBR", result, BAD, "InvalidParameter", Some("local_router_id"));

    // Same account VBR-to-VPC with the VBR as the peer (acceptor) side.
    let result = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            connection_type: pb::ConnectionType::VbrToVpc as i32,
            local_router_id: vbr_id.clone(),
            peer_router_id: vbr_id.clone(),
            ..same_account_peering("", "")
        })
        .await;
    refused("VBR-to-VPC with a VBR acceptor", result, BAD, "InvalidParameter", Some("peer_router_id"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    // An acceptor on a VPC is fine.
    let id = create_ri(&mut ris, acceptor(&vrouter_id)).await;
    let ri = describe(&mut ris, &id).await;
    assert_eq!((ri.role(), ri.router_type()), (pb::Role::AcceptingSide, pb::RouterType::Vrouter));
    let created = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
            ..cross_account_peering(&vpc_id)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.initiator_interface_id.is_empty());
    let ri = describe(&mut ris, &created.acceptor_interface_id).await;
    assert_eq!((ri.role(), ri.router_id.as_str()), (pb::Role::AcceptingSide, vrouter_id.as_str()));
}

#[tokio::test]
async fn vbr_to_vpc_needs_a_vbr_initiator() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;
    let vbr_to_vpc = |local: &str| pb::CreatePeeringConnectionRequest {
        connection_type: pb::ConnectionType::VbrToVpc as i32,
        ..cross_account_peering(local)
    };

    let result = ris.create_peering_connection(vbr_to_vpc(&vpc_id)).await;
    let status =
        refused("VBR-to-VPC Initiator Only from a VPC", result, BAD, "InvalidParameter", Some("local_router_id"));
    assert!(status.message().contains("vbr-"), "the message names the expected kind of id: {}", status.message());

    // And the other way round: VPC-to-VPC from a VBR.
    let result = ris.create_peering_connection(cross_account_peering(&vbr_id)).await;
    refused("VPC-to-VPC Initiator Only from a VBR", result, BAD, "InvalidParameter", Some("local_router_id"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    let created = ris.create_peering_connection(vbr_to_vpc(&vbr_id)).await.unwrap().into_inner();
    let ri = describe(&mut ris, &created.initiator_interface_id).await;
    assert_eq!(
        (ri.role(), ri.router_type(), ri.router_id.as_str(), ri.access_point_id.as_str()),
        (pb::Role::InitiatingSide, pb::RouterType::Vbr, vbr_id.as_str(), AP_HZ)
    );
    assert_eq!(ri.opposite_router_type(), pb::RouterType::Vrouter);
    assert!(ri.opposite_router_id.starts_with("vrt-"), "the peer VPC's vRouter: {}", ri.opposite_router_id);

    // Within one account: the VBR initiates, the VPC accepts, and they connect at once.
    let created = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            connection_type: pb::ConnectionType::VbrToVpc as i32,
            ..same_account_peering(&vbr_id, &vpc_id)
        })
        .await
        .unwrap()
        .into_inner();
    let initiator_end = describe(&mut ris, &created.initiator_interface_id).await;
    let acceptor_end = describe(&mut ris, &created.acceptor_interface_id).await;
    assert_eq!((initiator_end.router_type(), initiator_end.router_id.as_str()), (pb::RouterType::Vbr, vbr_id.as_str()));
    assert_eq!(
        (acceptor_end.router_type(), acceptor_end.router_id.as_str()),
        (pb::RouterType::Vrouter, vrouter_id.as_str())
    );
    assert_eq!(initiator_end.status(), pb::Status::Activated);
    assert_eq!(acceptor_end.status(), pb::Status::Activated);
}

#[tokio::test]
async fn acceptor_only_is_pay_as_you_go_only() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let acceptor_only = pb::CreatePeeringConnectionRequest {
        routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
        ..cross_account_peering(&vpc_id)
    };

    for (cycle, period) in [(pb::PricingCycle::Month, 1), (pb::PricingCycle::Year, 1)] {
        let result = ris
            .create_peering_connection(pb::CreatePeeringConnectionRequest {
                instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
                pricing_cycle: cycle as i32,
                period,
                ..acceptor_only.clone()
            })
            .await;
        refused(
            &format!("Acceptor Only, PrePaid {cycle:?} {period}"),
            result,
            BAD,
            "OperationUnsupported.PrePaidAcceptor",
            Some("instance_charge_type"),
        );
    }
    // The same rule for a single acceptor end.
    let result = ris
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Month as i32,
            period: 1,
            ..acceptor(&vrouter_id)
        })
        .await;
    refused("PrePaid acceptor end", result, BAD, "OperationUnsupported.PrePaidAcceptor", Some("instance_charge_type"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    for charge in [pb::InstanceChargeType::Postpaid, pb::InstanceChargeType::Unspecified] {
        let created = ris
            .create_peering_connection(pb::CreatePeeringConnectionRequest {
                instance_charge_type: charge as i32,
                peer_router_id: format!("vpc-peer{}", charge as i32),
                ..acceptor_only.clone()
            })
            .await
            .unwrap_or_else(|e| panic!("Acceptor Only {charge:?}: {e:?}"))
            .into_inner();
        let ri = describe(&mut ris, &created.acceptor_interface_id).await;
        assert_eq!(
            (ri.instance_charge_type(), ri.spec.as_str(), ri.period, ri.end_time.as_str()),
            (pb::InstanceChargeType::Postpaid, "Negative", 0, ""),
            "{charge:?}"
        );
    }
}

#[tokio::test]
async fn routers_to_create_depend_on_the_account_type() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc1, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2, _) = create_vpc(&mut vpcs, HZ, "192.168.0.0/16").await;

    for (account_type, routers) in [
        (pb::AccountType::Same, pb::RoutersToCreate::InitiatorOnly),
        (pb::AccountType::Same, pb::RoutersToCreate::AcceptorOnly),
        (pb::AccountType::Different, pb::RoutersToCreate::InitiatorAndAcceptor),
    ] {
        let base = match account_type {
            pb::AccountType::Same => same_account_peering(&vpc1, &vpc2),
            _ => cross_account_peering(&vpc1),
        };
        let result = ris
            .create_peering_connection(pb::CreatePeeringConnectionRequest { routers_to_create: routers as i32, ..base })
            .await;
        refused(
            &format!("{account_type:?} with {routers:?}"),
            result,
            BAD,
            "OperationUnsupported.RoutersToCreate",
            Some("routers_to_create"),
        );
    }
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    // The allowed combinations.
    let both = ris.create_peering_connection(same_account_peering(&vpc1, &vpc2)).await.unwrap().into_inner();
    assert!(!both.initiator_interface_id.is_empty() && !both.acceptor_interface_id.is_empty());
    let initiator_only = ris.create_peering_connection(cross_account_peering(&vpc1)).await.unwrap().into_inner();
    assert!(!initiator_only.initiator_interface_id.is_empty() && initiator_only.acceptor_interface_id.is_empty());
    let ri = describe(&mut ris, &initiator_only.initiator_interface_id).await;
    assert_eq!(ri.opposite_interface_owner_id, ACCOUNT_B);
    let acceptor_only = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
            peer_router_id: "vpc-anotherpeer".into(),
            ..cross_account_peering(&vpc2)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(acceptor_only.initiator_interface_id.is_empty() && !acceptor_only.acceptor_interface_id.is_empty());
    assert_eq!(count_router_interfaces(&mut ris).await, 4);
}

#[tokio::test]
async fn only_catalogue_specs_are_accepted() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let specs = [
        ("Mini.2", 2),
        ("Mini.5", 5),
        ("Small.1", 10),
        ("Small.2", 20),
        ("Small.5", 50),
        ("Middle.1", 100),
        ("Middle.2", 200),
        ("Middle.5", 500),
        ("Large.1", 1000),
        ("Large.2", 2000),
        ("Large.5", 5000),
        ("Xlarge.1", 10000),
    ];
    let (_, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    for spec in ["Huge.9", "large.1", "Large.3", "Large", "Negative", " Large.1", "1000"] {
        let result = ris
            .create_router_interface(pb::CreateRouterInterfaceRequest { spec: spec.into(), ..initiator(&vrouter_id) })
            .await;
        refused(&format!("spec {spec:?}"), result, BAD, "InvalidSpec", Some("spec"));
    }
    let result = ris
        .create_router_interface(pb::CreateRouterInterfaceRequest { spec: String::new(), ..initiator(&vrouter_id) })
        .await;
    refused("no spec on an initiator", result, BAD, "MissingParameter", Some("spec"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    for (spec, mbps) in specs {
        // One VPC per interface: a router holds at most five.
        let (_, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
        let id =
            create_ri(&mut ris, pb::CreateRouterInterfaceRequest { spec: spec.into(), ..initiator(&vrouter_id) }).await;
        let ri = describe(&mut ris, &id).await;
        assert_eq!((ri.spec.as_str(), ri.bandwidth), (spec, mbps), "spec {spec}");
    }

    // The form's bandwidth is the initiator's spec.
    let (vpc1, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let result = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            bandwidth: "Huge.9".into(),
            ..same_account_peering(&vpc1, &vpc2)
        })
        .await;
    refused("peering bandwidth Huge.9", result, BAD, "InvalidSpec", Some("bandwidth"));
    let created = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            bandwidth: "Small.2".into(),
            ..same_account_peering(&vpc1, &vpc2)
        })
        .await
        .unwrap()
        .into_inner();
    let ri = describe(&mut ris, &created.initiator_interface_id).await;
    assert_eq!((ri.spec.as_str(), ri.bandwidth), ("Small.2", 20));
}

#[tokio::test]
async fn an_acceptor_spec_is_negative() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc1, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2, _) = create_vpc(&mut vpcs, HZ, CIDR).await;

    for spec in ["Large.1", "Mini.2", "negative", "banana"] {
        let result = ris
            .create_router_interface(pb::CreateRouterInterfaceRequest { spec: spec.into(), ..acceptor(&vrouter_id) })
            .await;
        let status = refused(&format!("acceptor with spec {spec:?}"), result, BAD, "InvalidSpec", Some("spec"));
        assert!(status.message().contains("Negative"), "the message names the acceptor's spec: {}", status.message());
    }
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    for spec in ["", "Negative"] {
        let id =
            create_ri(&mut ris, pb::CreateRouterInterfaceRequest { spec: spec.into(), ..acceptor(&vrouter_id) }).await;
        let ri = describe(&mut ris, &id).await;
        assert_eq!((ri.spec.as_str(), ri.bandwidth), ("Negative", 0), "acceptor created with spec {spec:?}");
    }

    // The acceptor end of a same-account peering uses the initiator's bandwidth.
    let created = ris.create_peering_connection(same_account_peering(&vpc1, &vpc2)).await.unwrap().into_inner();
    let acceptor_end = describe(&mut ris, &created.acceptor_interface_id).await;
    assert_eq!(acceptor_end.spec, "Negative");
    let initiator_end = describe(&mut ris, &created.initiator_interface_id).await;
    assert_eq!((initiator_end.spec.as_str(), initiator_end.bandwidth), ("Large.1", 1000));
}

#[tokio::test]
async fn subscription_periods_follow_the_pricing_cycle() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (_, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let prepaid = |vrouter: &str, cycle: pb::PricingCycle, period: i32| pb::CreateRouterInterfaceRequest {
        instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
        pricing_cycle: cycle as i32,
        period,
        ..initiator(vrouter)
    };

    for (cycle, period) in [
        (pb::PricingCycle::Month, 0),
        (pb::PricingCycle::Month, 10),
        (pb::PricingCycle::Month, -1),
        (pb::PricingCycle::Year, 0),
        (pb::PricingCycle::Year, 4),
        (pb::PricingCycle::Year, 9),
    ] {
        let result = ris.create_router_interface(prepaid(&vrouter_id, cycle, period)).await;
        refused(&format!("PrePaid {cycle:?} {period}"), result, BAD, "InvalidPeriod", Some("period"));
    }
    let result = ris.create_router_interface(prepaid(&vrouter_id, pb::PricingCycle::Unspecified, 1)).await;
    refused("PrePaid without a cycle", result, BAD, "MissingParameter", Some("pricing_cycle"));
    let result = ris
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            instance_charge_type: pb::InstanceChargeType::Postpaid as i32,
            period: 3,
            ..initiator(&vrouter_id)
        })
        .await;
    refused("PostPaid with period 3", result, BAD, "InvalidPeriod", Some("period"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    let accepted = (1..=9).map(|p| (pb::PricingCycle::Month, p)).chain((1..=3).map(|p| (pb::PricingCycle::Year, p)));
    for (cycle, period) in accepted {
        let (_, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
        let id = create_ri(&mut ris, prepaid(&vrouter_id, cycle, period)).await;
        let ri = describe(&mut ris, &id).await;
        assert_eq!(
            (ri.instance_charge_type(), ri.pricing_cycle(), ri.period),
            (pb::InstanceChargeType::Prepaid, cycle, period),
            "{cycle:?} {period}"
        );
        assert!(!ri.end_time.is_empty(), "a subscription has an end time ({cycle:?} {period})");
    }
    assert_eq!(count_router_interfaces(&mut ris).await, 12);

    // The same ranges through the console form.
    let (vpc1, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let form = |cycle: pb::PricingCycle, period: i32| pb::CreatePeeringConnectionRequest {
        instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
        pricing_cycle: cycle as i32,
        period,
        ..same_account_peering(&vpc1, &vpc2)
    };
    for (cycle, period) in [(pb::PricingCycle::Month, 10), (pb::PricingCycle::Year, 4)] {
        let result = ris.create_peering_connection(form(cycle, period)).await;
        refused(&format!("peering PrePaid {cycle:?} {period}"), result, BAD, "InvalidPeriod", Some("period"));
    }
    let created = ris.create_peering_connection(form(pb::PricingCycle::Year, 3)).await.unwrap().into_inner();
    let ri = describe(&mut ris, &created.initiator_interface_id).await;
    assert_eq!((ri.pricing_cycle(), ri.period), (pb::PricingCycle::Year, 3));
}

#[tokio::test]
async fn names_and_descriptions_follow_the_rules() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (_, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let name_128 = format!("a{}", "b".repeat(127));
    let name_129 = format!("a{}", "b".repeat(128));
    let description_256 = "d".repeat(256);
    let description_257 = "d".repeat(257);
    let bad_names = ["a", name_129.as_str(), "1abc", "-abc", "has space", "http://x.com", "a/b"];
    let bad_descriptions = ["x", description_257.as_str(), "http://example.com", "https://example.com"];

    for name in bad_names {
        let case = format!("name of {} chars {:.12?}", name.chars().count(), name);
        let result = vpcs
            .create_vpc(pb::CreateVpcRequest {
                region_id: HZ.into(),
                cidr_block: CIDR.into(),
                vpc_name: name.into(),
                ..Default::default()
            })
            .await;
        refused(&format!("CreateVpc {case}"), result, BAD, "InvalidName.Malformed", Some("vpc_name"));
        let result = vpcs
            .create_virtual_border_router(pb::CreateVirtualBorderRouterRequest {
                region_id: HZ.into(),
                access_point_id: AP_HZ.into(),
                name: name.into(),
                ..Default::default()
            })
            .await;
        refused(&format!("CreateVirtualBorderRouter {case}"), result, BAD, "InvalidName.Malformed", Some("name"));
        let result = ris
            .create_router_interface(pb::CreateRouterInterfaceRequest { name: name.into(), ..initiator(&vrouter_id) })
            .await;
        refused(&format!("CreateRouterInterface {case}"), result, BAD, "InvalidName.Malformed", Some("name"));
    }
    for description in bad_descriptions {
        let case = format!("description of {} chars {:.12?}", description.chars().count(), description);
        let result = vpcs
            .create_vpc(pb::CreateVpcRequest {
                region_id: HZ.into(),
                cidr_block: CIDR.into(),
                description: description.into(),
                ..Default::default()
            })
            .await;
        refused(&format!("CreateVpc {case}"), result, BAD, "InvalidDescription.Malformed", Some("description"));
        let result = ris
            .create_router_interface(pb::CreateRouterInterfaceRequest {
                description: description.into(),
                ..initiator(&vrouter_id)
            })
            .await;
        refused(
            &format!("CreateRouterInterface {case}"),
            result,
            BAD,
            "InvalidDescription.Malformed",
            Some("description"),
        );
    }
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    // The edges that are allowed, read back as given.
    let good = [
        ("ab", "ab"),
        (name_128.as_str(), description_256.as_str()),
        ("对等连接", "链接到 B 账号"),
        ("peer-to_B.1", "a link to B"),
    ];
    for (name, description) in good {
        let id = create_ri(
            &mut ris,
            pb::CreateRouterInterfaceRequest {
                name: name.into(),
                description: description.into(),
                ..initiator(&vrouter_id)
            },
        )
        .await;
        let ri = describe(&mut ris, &id).await;
        assert_eq!((ri.name.as_str(), ri.description.as_str()), (name, description));
    }
    let created = vpcs
        .create_vpc(pb::CreateVpcRequest {
            region_id: HZ.into(),
            cidr_block: CIDR.into(),
            vpc_name: name_128.clone(),
            description: description_256.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let listed = vpcs
        .describe_vpcs(pb::DescribeVpcsRequest { vpc_ids: vec![created.vpc_id.clone()], ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (listed.vpcs[0].vpc_name.as_str(), listed.vpcs[0].description.as_str()),
        (name_128.as_str(), description_256.as_str())
    );

    // ModifyRouterInterfaceAttribute applies the same rules and leaves the interface unchanged on refusal.
    let id =
        create_ri(&mut ris, pb::CreateRouterInterfaceRequest { name: "before".into(), ..initiator(&vrouter_id) }).await;
    for name in bad_names {
        let result = ris
            .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
                router_interface_id: id.clone(),
                name: Some(name.into()),
                ..Default::default()
            })
            .await;
        refused(&format!("Modify name {:.12?}", name), result, BAD, "InvalidName.Malformed", Some("name"));
    }
    for description in bad_descriptions {
        let result = ris
            .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
                router_interface_id: id.clone(),
                name: Some("after".into()),
                description: Some(description.into()),
                ..Default::default()
            })
            .await;
        refused(
            &format!("Modify description {:.12?}", description),
            result,
            BAD,
            "InvalidDescription.Malformed",
            Some("description"),
        );
    }
    assert_eq!(describe(&mut ris, &id).await.name, "before", "a refused modification changes nothing");
    ris.modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
        router_interface_id: id.clone(),
        name: Some("after".into()),
        description: Some("a description".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let ri = describe(&mut ris, &id).await;
    assert_eq!((ri.name.as_str(), ri.description.as_str()), ("after", "a description"));
}

#[tokio::test]
async fn a_router_holds_at_most_five_interfaces() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2_id, vrouter2_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;

    let mut ids = Vec::new();
    for i in 0..5 {
        let request = if i % 2 == 0 { initiator(&vrouter_id) } else { acceptor(&vrouter_id) };
        ids.push(create_ri(&mut ris, request).await);
    }
    let result = ris.create_router_interface(initiator(&vrouter_id)).await;
    let status = refused("6th interface on a vRouter", result, Code::ResourceExhausted, "QuotaExceeded", None);
    assert!(status.message().contains(&vrouter_id), "the message names the router: {}", status.message());
    let result = ris.create_router_interface(acceptor(&vrouter_id)).await;
    refused("6th interface (an acceptor) on a vRouter", result, Code::ResourceExhausted, "QuotaExceeded", None);
    let result = ris.create_peering_connection(same_account_peering(&vpc_id, &vpc2_id)).await;
    refused("peering from a full vRouter", result, Code::ResourceExhausted, "QuotaExceeded", None);
    let result = ris.create_peering_connection(same_account_peering(&vpc2_id, &vpc_id)).await;
    refused("peering towards a full vRouter", result, Code::ResourceExhausted, "QuotaExceeded", None);
    assert_eq!(count_router_interfaces(&mut ris).await, 5, "the refused peerings created no end at all");

    // The quota is per router: another router still has room.
    create_ri(&mut ris, initiator(&vrouter2_id)).await;
    // A VBR has the same quota.
    for _ in 0..5 {
        create_ri(&mut ris, vbr_initiator(&vbr_id)).await;
    }
    let result = ris.create_router_interface(vbr_initiator(&vbr_id)).await;
    refused("6th interface on a VBR", result, Code::ResourceExhausted, "QuotaExceeded", None);

    // Deleting one makes room again.
    ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
        router_interface_id: ids[0].clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    create_ri(&mut ris, initiator(&vrouter_id)).await;
    let result = ris.create_router_interface(initiator(&vrouter_id)).await;
    refused("6th interface again", result, Code::ResourceExhausted, "QuotaExceeded", None);
}

#[tokio::test]
async fn regions_and_access_points_must_exist() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;

    let vbr = |region: &str, ap: &str| pb::CreateVirtualBorderRouterRequest {
        region_id: region.into(),
        access_point_id: ap.into(),
        ..Default::default()
    };
    let result = vpcs.create_virtual_border_router(vbr("mars-1", AP_HZ)).await;
    refused("VBR in an unknown region", result, NOT_FOUND, "InvalidRegionId.NotFound", Some("region_id"));
    for ap in ["ap-cn-hangzhou-zz-Z", AP_SH] {
        let result = vpcs.create_virtual_border_router(vbr(HZ, ap)).await;
        let status = refused(
            &format!("VBR at {ap}"),
            result,
            NOT_FOUND,
            "InvalidAccessPointId.NotFound",
            Some("access_point_id"),
        );
        assert!(status.message().contains(AP_HZ), "the message lists the region's access points: {}", status.message());
    }
    let result = vpcs
        .create_vpc(pb::CreateVpcRequest { region_id: "mars-1".into(), cidr_block: CIDR.into(), ..Default::default() })
        .await;
    refused("VPC in an unknown region", result, NOT_FOUND, "InvalidRegionId.NotFound", Some("region_id"));
    let listed = vpcs
        .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_count, 0);

    // Every access point of the two regions is accepted.
    let mut vbrs = Vec::new();
    for (region, ap) in [(HZ, AP_HZ), (HZ, AP_HZ_OTHER), (SH, AP_SH)] {
        let id = vpcs.create_virtual_border_router(vbr(region, ap)).await.unwrap().into_inner().vbr_id;
        vbrs.push((id, region, ap));
    }
    let (vbr_hz, _, _) = vbrs[0].clone();
    let (vbr_sh, _, _) = vbrs[2].clone();

    // A VBR router interface names the VBR's own, existing access point.
    let on_vbr = |vbr_id: &str, region: &str, ap: &str| pb::CreateRouterInterfaceRequest {
        region_id: region.into(),
        access_point_id: ap.into(),
        ..vbr_initiator(vbr_id)
    };
    for ap in ["ap-nowhere-A", AP_SH] {
        let result = ris.create_router_interface(on_vbr(&vbr_hz, HZ, ap)).await;
        refused(
            &format!("VBR interface at {ap}"),
            result,
            NOT_FOUND,
            "InvalidAccessPointId.NotFound",
            Some("access_point_id"),
        );
    }
    let result = ris.create_router_interface(on_vbr(&vbr_hz, "mars-1", AP_HZ)).await;
    refused("VBR interface in an unknown region", result, NOT_FOUND, "InvalidRegionId.NotFound", Some("region_id"));
    let result = ris.create_router_interface(on_vbr(&vbr_hz, HZ, AP_HZ_OTHER)).await;
    refused(
        "VBR interface at the region's other access point",
        result,
        BAD,
        "InvalidAccessPointId.Mismatch",
        Some("access_point_id"),
    );
    let result = ris.create_router_interface(on_vbr(&vbr_sh, HZ, AP_HZ)).await;
    refused("Shanghai VBR named in Hangzhou", result, BAD, "InvalidAccessPointId.Mismatch", Some("access_point_id"));
    let result = ris.create_router_interface(on_vbr(&vbr_sh, HZ, AP_SH)).await;
    refused(
        "Shanghai access point named in Hangzhou",
        result,
        NOT_FOUND,
        "InvalidAccessPointId.NotFound",
        Some("access_point_id"),
    );
    let result = ris
        .create_router_interface(pb::CreateRouterInterfaceRequest {
            opposite_region_id: "mars-1".into(),
            ..on_vbr(&vbr_hz, HZ, AP_HZ)
        })
        .await;
    refused(
        "VBR interface towards an unknown region",
        result,
        NOT_FOUND,
        "InvalidRegionId.NotFound",
        Some("opposite_region_id"),
    );
    assert_eq!(count_router_interfaces(&mut ris).await, 0);

    for (vbr_id, region, ap) in &vbrs {
        let id = create_ri(&mut ris, on_vbr(vbr_id, region, ap)).await;
        let ri = describe(&mut ris, &id).await;
        assert_eq!((ri.region_id.as_str(), ri.access_point_id.as_str()), (*region, *ap));
    }
}

#[tokio::test]
async fn ids_must_be_well_formed_and_found() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;

    // Real ids of the wrong kind are malformed for the field.
    let result = ris.create_router_interface(initiator(&vpc_id)).await;
    refused("a VPC id where the vRouter id goes", result, BAD, "InvalidParameter", Some("router_id"));
    let result = vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vrouter_id.clone(), ..Default::default() }).await;
    refused("a vRouter id where the VPC id goes", result, BAD, "InvalidParameter", Some("vpc_id"));
    let result = vpcs
        .delete_virtual_border_router(pb::DeleteVirtualBorderRouterRequest {
            vbr_id: vpc_id.clone(),
            ..Default::default()
        })
        .await;
    refused("a VPC id where the VBR id goes", result, BAD, "InvalidParameter", Some("vbr_id"));
    let result = ris
        .describe_router_interface_attribute(pb::DescribeRouterInterfaceAttributeRequest {
            router_interface_id: vbr_id.clone(),
        })
        .await;
    refused(
        "a VBR id where the router interface id goes",
        result,
        BAD,
        "InvalidParameter",
        Some("router_interface_id"),
    );

    // Deleted resources are not found any more.
    let id = create_ri(&mut ris, initiator(&vrouter_id)).await;
    ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
        router_interface_id: id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let result = ris
        .describe_router_interface_attribute(pb::DescribeRouterInterfaceAttributeRequest {
            router_interface_id: id.clone(),
        })
        .await;
    let status = refused(
        "a deleted interface",
        result,
        NOT_FOUND,
        "InvalidRouterInterfaceId.NotFound",
        Some("router_interface_id"),
    );
    assert!(status.message().contains(&id), "the message names the id: {}", status.message());
    let result = ris
        .delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: id.clone(),
            ..Default::default()
        })
        .await;
    refused(
        "deleting a deleted interface",
        result,
        NOT_FOUND,
        "InvalidRouterInterfaceId.NotFound",
        Some("router_interface_id"),
    );

    vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc_id.clone(), ..Default::default() }).await.unwrap();
    let result = vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc_id.clone(), ..Default::default() }).await;
    refused("deleting a deleted VPC", result, NOT_FOUND, "InvalidVpcId.NotFound", Some("vpc_id"));
    let result = ris.create_router_interface(initiator(&vrouter_id)).await;
    refused(
        "an interface on a deleted VPC's vRouter",
        result,
        NOT_FOUND,
        "InvalidRouterId.NotFound",
        Some("router_id"),
    );
    let result = ris.create_peering_connection(cross_account_peering(&vpc_id)).await;
    refused("peering from a deleted VPC", result, NOT_FOUND, "InvalidVpcId.NotFound", Some("local_router_id"));

    vpcs.delete_virtual_border_router(pb::DeleteVirtualBorderRouterRequest {
        vbr_id: vbr_id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let result = vpcs
        .delete_virtual_border_router(pb::DeleteVirtualBorderRouterRequest {
            vbr_id: vbr_id.clone(),
            ..Default::default()
        })
        .await;
    refused("deleting a deleted VBR", result, NOT_FOUND, "InvalidVbrId.NotFound", Some("vbr_id"));
    let result = ris.create_router_interface(vbr_initiator(&vbr_id)).await;
    refused("an interface on a deleted VBR", result, NOT_FOUND, "InvalidVbrId.NotFound", Some("router_id"));
    assert_eq!(count_router_interfaces(&mut ris).await, 0);
}

#[tokio::test]
async fn opposite_fields_are_editable_only_while_idle() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc1, _) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let (vpc2, vrouter2) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let created = ris.create_peering_connection(same_account_peering(&vpc1, &vpc2)).await.unwrap().into_inner();
    let (initiator_id, acceptor_id) = (created.initiator_interface_id, created.acceptor_interface_id);
    assert_eq!(status_of(&mut ris, &initiator_id).await, pb::Status::Activated);
    assert_eq!(status_of(&mut ris, &acceptor_id).await, pb::Status::Activated);
    let before = describe(&mut ris, &initiator_id).await;

    type Mo = pb::ModifyRouterInterfaceAttributeRequest;
    let on = |id: &str| Mo { router_interface_id: id.into(), ..Default::default() };
    let attempts = [
        ("opposite_interface_id", Mo { opposite_interface_id: Some(NO_RI.into()), ..on(&initiator_id) }),
        ("opposite_router_id", Mo { opposite_router_id: Some(vrouter2.clone()), ..on(&initiator_id) }),
        ("opposite_router_type", Mo { opposite_router_type: pb::RouterType::Vrouter as i32, ..on(&initiator_id) }),
        (
            "opposite_interface_owner_id",
            Mo { opposite_interface_owner_id: Some(ACCOUNT_B.into()), ..on(&initiator_id) },
        ),
        ("opposite_interface_id on the acceptor", Mo { opposite_interface_id: Some(NO_RI.into()), ..on(&acceptor_id) }),
        (
            "a name together with an opposite field",
            Mo { name: Some("renamed".into()), opposite_interface_id: Some(NO_RI.into()), ..on(&initiator_id) },
        ),
    ];
    for (case, request) in attempts {
        let result = ris.modify_router_interface_attribute(request).await;
        let status = refused(&format!("Activated: {case}"), result, Code::FailedPrecondition, "IncorrectStatus", None);
        assert!(status.message().contains("Idle"), "{case}: the message says when it is allowed: {}", status.message());
    }
    let after = describe(&mut ris, &initiator_id).await;
    assert_eq!(after, before, "refused modifications change nothing");

    // Name, description and health check can change at any time.
    ris.modify_router_interface_attribute(Mo {
        name: Some("renamed".into()),
        description: Some("still connected".into()),
        health_check_source_ip: Some("10.0.0.1".into()),
        health_check_target_ip: Some("10.0.0.2".into()),
        ..on(&initiator_id)
    })
    .await
    .unwrap();
    let ri = describe(&mut ris, &initiator_id).await;
    assert_eq!(
        (ri.name.as_str(), ri.description.as_str(), ri.health_check_source_ip.as_str(), ri.status()),
        ("renamed", "still connected", "10.0.0.1", pb::Status::Activated)
    );
    assert_eq!(ri.opposite_interface_id, acceptor_id);

    // On an Idle end the opposite fields are editable.
    let (_, vrouter3) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let idle = create_ri(&mut ris, initiator(&vrouter3)).await;
    ris.modify_router_interface_attribute(Mo {
        opposite_interface_id: Some(NO_RI.into()),
        opposite_router_id: Some(vrouter2.clone()),
        opposite_interface_owner_id: Some(ACCOUNT_B.into()),
        ..on(&idle)
    })
    .await
    .unwrap();
    let ri = describe(&mut ris, &idle).await;
    assert_eq!(
        (ri.opposite_interface_id.as_str(), ri.opposite_router_id.as_str(), ri.opposite_interface_owner_id.as_str()),
        (NO_RI, vrouter2.as_str(), ACCOUNT_B)
    );
    assert_eq!((ri.opposite_router_type(), ri.status()), (pb::RouterType::Vrouter, pb::Status::Idle));
}

#[tokio::test]
async fn a_router_in_use_cannot_be_deleted() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc_id, vrouter_id) = create_vpc(&mut vpcs, HZ, CIDR).await;
    let vbr_id = create_vbr(&mut vpcs, HZ, AP_HZ).await;
    let on_vpc = create_ri(&mut ris, initiator(&vrouter_id)).await;
    let on_vpc_2 = create_ri(&mut ris, acceptor(&vrouter_id)).await;
    let on_vbr = create_ri(&mut ris, vbr_initiator(&vbr_id)).await;

    let result = vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc_id.clone(), ..Default::default() }).await;
    let status =
        refused("VPC with interfaces", result, Code::FailedPrecondition, "DependencyViolation.RouterInterface", None);
    for id in [&on_vpc, &on_vpc_2] {
        assert!(status.message().contains(id.as_str()), "the message names {id}: {}", status.message());
    }
    assert!(!status.message().contains(&on_vbr), "only the VPC's interfaces are named: {}", status.message());
    let result = vpcs
        .delete_virtual_border_router(pb::DeleteVirtualBorderRouterRequest {
            vbr_id: vbr_id.clone(),
            ..Default::default()
        })
        .await;
    let status =
        refused("VBR with an interface", result, Code::FailedPrecondition, "DependencyViolation.RouterInterface", None);
    assert!(status.message().contains(&on_vbr), "the message names {on_vbr}: {}", status.message());

    // Both still exist.
    let listed = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.total_count, 1);
    let listed = vpcs
        .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_count, 1);

    // Still refused while one interface remains; allowed once none does.
    ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
        router_interface_id: on_vpc.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let result = vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc_id.clone(), ..Default::default() }).await;
    let status = refused(
        "VPC with one interface left",
        result,
        Code::FailedPrecondition,
        "DependencyViolation.RouterInterface",
        None,
    );
    assert!(status.message().contains(&on_vpc_2) && !status.message().contains(&on_vpc), "{}", status.message());
    for id in [&on_vpc_2, &on_vbr] {
        ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id, ..Default::default() }).await.unwrap();
    vpcs.delete_virtual_border_router(pb::DeleteVirtualBorderRouterRequest { vbr_id, ..Default::default() })
        .await
        .unwrap();
    let listed = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.total_count, 0);
}
