//! Restart durability with real processes: stop a service, start it on the same data directory, and
//! every resource is there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scenario_tests::{Binary, Service, TempDir, create_vpc, describe, pb};

#[tokio::test]
async fn everything_survives_a_graceful_restart_and_a_kill() {
    let dir = TempDir::new();
    let svc = Service::start(Binary::Acceptor, Some(dir.path())).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    let (vpc_a, _) = create_vpc(&mut vpcs, "cn-hangzhou", "172.16.0.0/12").await;
    let (vpc_b, vrt_b) = create_vpc(&mut vpcs, "cn-beijing", "192.168.0.0/16").await;
    let vbr = vpcs
        .create_virtual_border_router(pb::CreateVirtualBorderRouterRequest {
            region_id: "cn-hangzhou".into(),
            access_point_id: "ap-cn-hangzhou-jg-A".into(),
            name: "line-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .vbr_id;
    let peering = ris
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            account_type: pb::AccountType::Same as i32,
            connection_type: pb::ConnectionType::VbrToVpc as i32,
            routers_to_create: pb::RoutersToCreate::InitiatorAndAcceptor as i32,
            local_region_id: "cn-hangzhou".into(),
            local_router_id: vbr.clone(),
            peer_region_id: "cn-beijing".into(),
            peer_router_id: vpc_b.clone(),
            bandwidth: "Large.2".into(),
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Year as i32,
            period: 1,
            client_token: "peer-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    ris.deactivate_router_interface(pb::DeactivateRouterInterfaceRequest {
        router_interface_id: peering.acceptor_interface_id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let initiator_before = describe(&mut ris, &peering.initiator_interface_id).await;
    let acceptor_before = describe(&mut ris, &peering.acceptor_interface_id).await;
    assert_eq!(initiator_before.status(), pb::Status::Suspended);
    assert_eq!(initiator_before.router_id, vbr);
    assert_eq!(acceptor_before.router_id, vrt_b);
    let vpcs_before = vpcs.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner();
    let vbrs_before = vpcs
        .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(vpcs_before.total_count, 2);

    // Graceful restart (SIGTERM, exit 0, the WAL folded back into the database), then a kill -9 and a
    // cold start.
    let (binary, addr, data_dir) = (svc.binary, svc.addr, svc.data_dir.clone());
    assert!(svc.stop().await.success(), "SIGTERM exits 0");
    let wal = dir.path().join("account.sqlite3-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "the store was closed cleanly");
    let svc = Service::start_on(binary, data_dir.as_deref(), addr).await;
    let (mut vpcs, mut ris) = (svc.vpcs().await, svc.router_interfaces().await);
    assert_eq!(describe(&mut ris, &peering.initiator_interface_id).await, initiator_before);
    ris.activate_router_interface(pb::ActivateRouterInterfaceRequest {
        router_interface_id: peering.acceptor_interface_id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let svc = svc.kill().await.start().await;
    let (mut vpcs2, mut ris2) = (svc.vpcs().await, svc.router_interfaces().await);
    let i = describe(&mut ris2, &peering.initiator_interface_id).await;
    let a = describe(&mut ris2, &peering.acceptor_interface_id).await;
    assert_eq!(
        (i.status(), a.status()),
        (pb::Status::Activated, pb::Status::Activated),
        "the activation acknowledged before kill -9 survived"
    );
    assert_eq!(
        (i.instance_charge_type(), i.period, i.end_time.is_empty()),
        (pb::InstanceChargeType::Prepaid, 1, false)
    );
    assert_eq!(vpcs2.describe_vpcs(pb::DescribeVpcsRequest::default()).await.unwrap().into_inner(), vpcs_before);
    assert_eq!(
        vpcs2
            .describe_virtual_border_routers(pb::DescribeVirtualBorderRoutersRequest::default())
            .await
            .unwrap()
            .into_inner(),
        vbrs_before
    );
    // Client tokens survive too: the repeat answers with the same ids and creates nothing.
    let again = ris2
        .create_peering_connection(pb::CreatePeeringConnectionRequest {
            account_type: pb::AccountType::Same as i32,
            connection_type: pb::ConnectionType::VbrToVpc as i32,
            routers_to_create: pb::RoutersToCreate::InitiatorAndAcceptor as i32,
            local_region_id: "cn-hangzhou".into(),
            local_router_id: vbr,
            peer_region_id: "cn-beijing".into(),
            peer_router_id: vpc_b,
            bandwidth: "Large.2".into(),
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Year as i32,
            period: 1,
            client_token: "peer-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, peering);
    let _ = (&mut vpcs, vpc_a);
}
