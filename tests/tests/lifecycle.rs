//! One account on its own: the same-account peering lifecycle, idempotency, paging and filters, against
//! the real initiator-svc process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scenario_tests::{ACCOUNT_A, Binary, Service, create_vpc, describe, pb, reason, status_of};
use tonic::Code;

fn ri_request(region: &str, role: pb::Role, router: &str, spec: &str) -> pb::CreateRouterInterfaceRequest {
    pb::CreateRouterInterfaceRequest {
        region_id: region.into(),
        role: role as i32,
        router_type: pb::RouterType::Vrouter as i32,
        router_id: router.into(),
        spec: spec.into(),
        opposite_region_id: "cn-hangzhou".into(),
        ..Default::default()
    }
}

/// Idle → Activated → Suspended → Activated → Suspended → deleted, with two ends made one by one
/// through CreateRouterInterface, configured, and connected, as the real API does it.
#[tokio::test]
async fn same_account_lifecycle_through_the_real_api() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    let (_, vrt_a) = create_vpc(&mut vpcs, "cn-hangzhou", "172.16.0.0/12").await;
    let (_, vrt_b) = create_vpc(&mut vpcs, "cn-hangzhou", "192.168.0.0/16").await;

    let initiator = ris
        .create_router_interface(ri_request("cn-hangzhou", pb::Role::InitiatingSide, &vrt_a, "Large.1"))
        .await
        .unwrap()
        .into_inner()
        .router_interface_id;
    let mut acceptor_req = ri_request("cn-hangzhou", pb::Role::AcceptingSide, &vrt_b, "");
    acceptor_req.opposite_router_id = vrt_a.clone();
    acceptor_req.opposite_interface_id = initiator.clone();
    acceptor_req.opposite_interface_owner_id = ACCOUNT_A.into();
    let acceptor = ris.create_router_interface(acceptor_req).await.unwrap().into_inner().router_interface_id;
    assert_eq!(status_of(&mut ris, &initiator).await, pb::Status::Idle);
    assert_eq!(status_of(&mut ris, &acceptor).await, pb::Status::Idle);

    // Connect refuses until the initiator names its opposite.
    let err = ris
        .connect_router_interface(pb::ConnectRouterInterfaceRequest {
            router_interface_id: initiator.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::FailedPrecondition, "IncorrectOppositeInterfaceInfo.NotSet")
    );
    ris.modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
        router_interface_id: initiator.clone(),
        opposite_interface_id: Some(acceptor.clone()),
        opposite_router_id: Some(vrt_b.clone()),
        opposite_interface_owner_id: Some(ACCOUNT_A.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    // The acceptor cannot initiate.
    let err = ris
        .connect_router_interface(pb::ConnectRouterInterfaceRequest {
            router_interface_id: acceptor.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "IncorrectRole.NotInitiatingSide");

    let connected = ris
        .connect_router_interface(pb::ConnectRouterInterfaceRequest {
            router_interface_id: initiator.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connected.status(), pb::Status::Activated);
    let (i, a) = (describe(&mut ris, &initiator).await, describe(&mut ris, &acceptor).await);
    assert_eq!((i.status(), a.status()), (pb::Status::Activated, pb::Status::Activated));
    assert_eq!(
        (i.opposite_interface_status(), a.opposite_interface_status()),
        (pb::Status::Activated, pb::Status::Activated)
    );
    assert_eq!((a.opposite_interface_spec.as_str(), a.opposite_bandwidth), ("Large.1", 1000));
    assert_eq!((a.spec.as_str(), i.opposite_interface_spec.as_str()), ("Negative", "Negative"));

    // Suspend → both Suspended; activate → both Activated; suspend again.
    for (call, expected) in
        [("suspend", pb::Status::Suspended), ("activate", pb::Status::Activated), ("suspend", pb::Status::Suspended)]
    {
        let status = if call == "suspend" {
            ris.deactivate_router_interface(pb::DeactivateRouterInterfaceRequest {
                router_interface_id: initiator.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .status()
        } else {
            ris.activate_router_interface(pb::ActivateRouterInterfaceRequest {
                router_interface_id: initiator.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .status()
        };
        assert_eq!(status, expected, "{call}");
        assert_eq!(status_of(&mut ris, &acceptor).await, expected, "acceptor after {call}");
        assert_eq!(describe(&mut ris, &acceptor).await.opposite_interface_status(), expected);
    }
    let a = describe(&mut ris, &acceptor).await;
    assert_eq!(a.suspended_by, vec![ACCOUNT_A.to_owned()]);

    // An Activated end cannot be deleted; a Suspended one can, and the other end returns to Idle.
    ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
        router_interface_id: initiator.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let a = describe(&mut ris, &acceptor).await;
    assert_eq!((a.status(), a.opposite_interface_status()), (pb::Status::Idle, pb::Status::Deleted));
    let err = ris
        .describe_router_interface_attribute(pb::DescribeRouterInterfaceAttributeRequest {
            router_interface_id: initiator.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), reason(&err).as_str()), (Code::NotFound, "InvalidRouterInterfaceId.NotFound"));
    ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
        router_interface_id: acceptor.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let left =
        ris.describe_router_interfaces(pb::DescribeRouterInterfacesRequest::default()).await.unwrap().into_inner();
    assert_eq!(left.total_count, 0);
}

/// The console's "Initiator and Acceptor": both ends made and Activated at once; the seed's delete
/// procedure (suspend initiator, suspend acceptor, delete) works on them.
#[tokio::test]
async fn console_initiator_and_acceptor_then_the_delete_procedure() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    let (vpc_a, _) = create_vpc(&mut vpcs, "cn-hangzhou", "172.16.0.0/12").await;
    let (vpc_b, _) = create_vpc(&mut vpcs, "cn-shanghai", "192.168.0.0/16").await;
    let created = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            account_type: pb::AccountType::Same as i32,
            connection_type: pb::ConnectionType::VpcToVpc as i32,
            routers_to_create: pb::RoutersToCreate::InitiatorAndAcceptor as i32,
            local_region_id: "cn-hangzhou".into(),
            local_router_id: vpc_a.clone(),
            peer_region_id: "cn-shanghai".into(),
            peer_router_id: vpc_b.clone(),
            bandwidth: "Middle.1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (i, a) = (
        describe(&mut ris, &created.initiator_interface_id).await,
        describe(&mut ris, &created.acceptor_interface_id).await,
    );
    assert_eq!((i.status(), a.status()), (pb::Status::Activated, pb::Status::Activated));
    assert_eq!(i.opposite_interface_id, a.router_interface_id);
    assert_eq!(a.opposite_interface_id, i.router_interface_id);
    assert_eq!(i.opposite_router_id, a.router_id);
    assert_eq!((i.region_id.as_str(), a.region_id.as_str()), ("cn-hangzhou", "cn-shanghai"));
    assert_eq!((i.bandwidth, a.spec.as_str()), (100, "Negative"));

    // Deleting a VPC that an end uses is refused.
    let err = vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc_b.clone(), ..Default::default() }).await.unwrap_err();
    assert_eq!(reason(&err), "DependencyViolation.RouterInterface");
    // Activated ends cannot be deleted.
    let err = ris
        .delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: i.router_interface_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), reason(&err).as_str()), (Code::FailedPrecondition, "IncorrectStatus"));

    for id in [&i.router_interface_id, &a.router_interface_id] {
        let s = ris
            .deactivate_router_interface(pb::DeactivateRouterInterfaceRequest {
                router_interface_id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(s.status(), pb::Status::Suspended);
    }
    // Both owners (here the same account) hold it suspended: activating one end keeps it Suspended.
    let s = ris
        .activate_router_interface(pb::ActivateRouterInterfaceRequest {
            router_interface_id: i.router_interface_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.status(), pb::Status::Suspended);
    ris.deactivate_router_interface(pb::DeactivateRouterInterfaceRequest {
        router_interface_id: i.router_interface_id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    for id in [&i.router_interface_id, &a.router_interface_id] {
        ris.delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    for vpc_id in [vpc_a, vpc_b] {
        vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id, ..Default::default() }).await.unwrap();
    }
    let left = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(left.total_count, 0);
}

#[tokio::test]
async fn client_token_returns_the_first_answer() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    let request = pb::CreateVpcRequest {
        region_id: "cn-hangzhou".into(),
        cidr_block: "10.0.0.0/8".into(),
        client_token: "create-vpc-1".into(),
        ..Default::default()
    };
    let first = vpcs.create_vpc(request.clone()).await.unwrap().into_inner();
    let again = vpcs.create_vpc(request.clone()).await.unwrap().into_inner();
    assert_eq!(first, again);
    let listed = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.total_count, 1, "a retried create makes one VPC");

    // The same token with a different request is refused.
    let err =
        vpcs.create_vpc(pb::CreateVpcRequest { cidr_block: "192.168.0.0/16".into(), ..request }).await.unwrap_err();
    assert_eq!((err.code(), reason(&err).as_str()), (Code::InvalidArgument, "IdempotentParameterMismatch"));

    // Create and delete of a router interface: the repeat answers as the first call did.
    let mut ri = ri_request("cn-hangzhou", pb::Role::InitiatingSide, &first.vrouter_id, "Mini.2");
    ri.client_token = "create-ri-1".into();
    let a = ris.create_router_interface(ri.clone()).await.unwrap().into_inner();
    let b = ris.create_router_interface(ri).await.unwrap().into_inner();
    assert_eq!(a.router_interface_id, b.router_interface_id);
    let delete = pb::DeleteRouterInterfaceRequest {
        router_interface_id: a.router_interface_id.clone(),
        client_token: "del-1".into(),
    };
    ris.delete_router_interface(delete.clone()).await.unwrap();
    ris.delete_router_interface(delete).await.unwrap();
    // Without a token, a second delete finds nothing.
    let err = ris
        .delete_router_interface(pb::DeleteRouterInterfaceRequest {
            router_interface_id: a.router_interface_id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // Same-account peering, VBR and peering forms are idempotent too.
    let vbr = pb::CreateVirtualBorderRouterRequest {
        region_id: "cn-hangzhou".into(),
        access_point_id: "ap-cn-hangzhou-yh-B".into(),
        client_token: "vbr-1".into(),
        ..Default::default()
    };
    let v1 = vpcs.create_virtual_border_router(vbr.clone()).await.unwrap().into_inner();
    let v2 = vpcs.create_virtual_border_router(vbr).await.unwrap().into_inner();
    assert_eq!(v1, v2);
}

#[tokio::test]
async fn describe_pages_and_filters() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    let (_, vrt_hz) = create_vpc(&mut vpcs, "cn-hangzhou", "172.16.0.0/12").await;
    let (_, vrt_sh) = create_vpc(&mut vpcs, "cn-shanghai", "192.168.0.0/16").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = ri_request("cn-hangzhou", pb::Role::InitiatingSide, &vrt_hz, "Small.1");
        ids.push(ris.create_router_interface(r).await.unwrap().into_inner().router_interface_id);
    }
    for _ in 0..2 {
        let r = ri_request("cn-shanghai", pb::Role::AcceptingSide, &vrt_sh, "");
        ids.push(ris.create_router_interface(r).await.unwrap().into_inner().router_interface_id);
    }

    // Pages of 3 over 7: 3, 3, 1, in creation order, and nothing past the end.
    let mut seen = Vec::new();
    for (page, expected) in [(1, 3), (2, 3), (3, 1), (4, 0)] {
        let r = ris
            .describe_router_interfaces(pb::DescribeRouterInterfacesRequest {
                page_number: page,
                page_size: 3,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.total_count, r.page_number, r.page_size), (7, page, 3));
        assert_eq!(r.router_interfaces.len(), expected, "page {page}");
        seen.extend(r.router_interfaces.into_iter().map(|ri| ri.router_interface_id));
    }
    assert_eq!(seen, ids, "pages list every end once, in creation order");

    let by = |req: pb::DescribeRouterInterfacesRequest| {
        let mut ris = ris.clone();
        async move { ris.describe_router_interfaces(req).await.unwrap().into_inner() }
    };
    let r =
        by(pb::DescribeRouterInterfacesRequest { role: pb::Role::AcceptingSide as i32, ..Default::default() }).await;
    assert_eq!(r.total_count, 2);
    assert!(r.router_interfaces.iter().all(|ri| ri.role() == pb::Role::AcceptingSide));
    let r = by(pb::DescribeRouterInterfacesRequest { region_id: "cn-shanghai".into(), ..Default::default() }).await;
    assert_eq!(r.total_count, 2);
    let r = by(pb::DescribeRouterInterfacesRequest { router_id: vrt_hz.clone(), ..Default::default() }).await;
    assert_eq!(r.total_count, 5);
    let r = by(pb::DescribeRouterInterfacesRequest {
        router_interface_ids: vec![ids[0].clone(), ids[6].clone()],
        ..Default::default()
    })
    .await;
    assert_eq!(r.total_count, 2);
    let r = by(pb::DescribeRouterInterfacesRequest {
        status: pb::Status::Idle as i32,
        router_id: vrt_sh.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(r.total_count, 2);
    let r =
        by(pb::DescribeRouterInterfacesRequest { status: pb::Status::Activated as i32, ..Default::default() }).await;
    assert_eq!(r.total_count, 0);
    // Default page size is 10.
    let r = by(pb::DescribeRouterInterfacesRequest::default()).await;
    assert_eq!((r.page_number, r.page_size, r.router_interfaces.len()), (1, 10, 7));

    let err = ris
        .describe_router_interfaces(pb::DescribeRouterInterfacesRequest { page_size: 51, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!((err.code(), scenario_tests::field(&err).as_deref()), (Code::InvalidArgument, Some("page_size")));
}
