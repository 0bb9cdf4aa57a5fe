//! Route tables and reachability (issue 5): system and custom entries and their rules, the delete
//! preconditions they add, the connection limits, the seed's section 5 across two accounts, and
//! CheckReachability on both services as a connection is made, suspended, activated and deleted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use scenario_tests::fixtures::{
    AP_HZ, BAD, HZ, NO_RI, NOT_FOUND, Ris, SH, Vpcs, acceptor, clients, count_router_interfaces, create_ri, create_vbr,
    initiator, refused, same_account_peering, vbr_initiator,
};
use scenario_tests::peering::{
    Ends, Flags, Terms, activate, connect, delete, ends_between, prepare_connection, start_pair, suspend,
    wait_agreement,
};
use scenario_tests::{ACCOUNT_A, ACCOUNT_B, Binary, Service, create_vpc, describe, pb, reason};
use tonic::Code;

const SETTLE: Duration = Duration::from_secs(10);
/// How long the other service may take to learn of a route change over the peer link.
const PROPAGATION: Duration = Duration::from_secs(5);

/// `vtb-…` (or `vpc-…`) of a router (`vrt-…` / `vbr-…`): the same suffix.
fn sibling(prefix: &str, router_id: &str) -> String {
    format!("{prefix}-{}", router_id.split_once('-').unwrap().1)
}

fn route(table: &str, destination: &str, next_hop: &str) -> pb::CreateRouteEntryRequest {
    pb::CreateRouteEntryRequest {
        route_table_id: table.into(),
        destination_cidr_block: destination.into(),
        next_hop_type: pb::NextHopType::RouterInterface as i32,
        next_hop_id: next_hop.into(),
        ..Default::default()
    }
}

async fn add_route(vpcs: &mut Vpcs, table: &str, destination: &str, next_hop: &str) -> String {
    vpcs.create_route_entry(route(table, destination, next_hop))
        .await
        .unwrap_or_else(|e| panic!("route {destination} via {next_hop} in {table}: {e:?}"))
        .into_inner()
        .route_entry_id
}

async fn remove_route(vpcs: &mut Vpcs, route_entry_id: &str) {
    let request = pb::DeleteRouteEntryRequest { route_entry_id: route_entry_id.into(), ..Default::default() };
    vpcs.delete_route_entry(request).await.unwrap();
}

async fn list(vpcs: &mut Vpcs, request: pb::DescribeRouteEntryListRequest) -> pb::DescribeRouteEntryListResponse {
    vpcs.describe_route_entry_list(request).await.unwrap().into_inner()
}

fn table(table: &str) -> pb::DescribeRouteEntryListRequest {
    pb::DescribeRouteEntryListRequest { route_table_id: table.into(), page_size: 50, ..Default::default() }
}

fn destinations(r: &pb::DescribeRouteEntryListResponse) -> Vec<&str> {
    r.route_entries.iter().map(|e| e.destination_cidr_block.as_str()).collect()
}

async fn reach(vpcs: &mut Vpcs, source: &str, ip: &str) -> pb::CheckReachabilityResponse {
    let request = pb::CheckReachabilityRequest { source_id: source.into(), destination_ip: ip.into() };
    vpcs.check_reachability(request).await.unwrap().into_inner()
}

/// Polls CheckReachability on `svc` until it answers `reachable` with a reason containing `why`.
async fn reach_until(
    svc: &Service,
    source: &str,
    ip: &str,
    reachable: bool,
    why: &str,
) -> pb::CheckReachabilityResponse {
    let mut vpcs = svc.vpcs().await;
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    loop {
        let answer = reach(&mut vpcs, source, ip).await;
        if answer.reachable == reachable && answer.reason.contains(why) {
            if reachable {
                assert!(!answer.hops.is_empty() && answer.reason.is_empty(), "{source} → {ip}: {answer:?}");
            } else {
                assert!(!answer.failed_hop.is_empty(), "{source} → {ip}: {answer:?}");
            }
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{source} → {ip} never became reachable={reachable} ({why:?}) within {PROPAGATION:?}; last: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts a refused call's code and reason, and that the message contains `message`.
#[track_caller]
fn denied<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: Code, why: &str, message: &str) {
    let status = result.expect_err(&format!("expected {code:?} {why}"));
    assert_eq!((status.code(), reason(&status).as_str()), (code, why), "{status:?}");
    assert!(status.message().contains(message), "message lacks {message:?}: {status:?}");
}

/// The router, VPC and route table of one end.
async fn router_of(ris: &mut Ris, end: &str) -> (String, String, String) {
    let router = describe(ris, end).await.router_id;
    (sibling("vpc", &router), sibling("vtb", &router), router)
}

/// A VPC with its route table, and a router interface on its vRouter (Idle).
async fn vpc_with_end(vpcs: &mut Vpcs, ris: &mut Ris, cidr: &str) -> (String, String, String) {
    let created = vpcs
        .create_vpc(pb::CreateVpcRequest { region_id: HZ.into(), cidr_block: cidr.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.route_table_id, sibling("vtb", &created.vpc_id));
    let end = create_ri(ris, initiator(&created.vrouter_id)).await;
    (created.vpc_id, created.route_table_id, end)
}

#[tokio::test]
async fn route_tables_have_a_system_entry_custom_entries_and_creation_rules() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let (vpc, vtb, end) = vpc_with_end(&mut vpcs, &mut ris, "172.16.0.0/12").await;
    let (_, _, other_end) = vpc_with_end(&mut vpcs, &mut ris, "192.168.0.0/16").await;

    // The system entry: the VPC's own block, next hop local, not deletable.
    let only = list(&mut vpcs, table(&vtb)).await;
    assert_eq!(only.total_count, 1, "{only:?}");
    let system = &only.route_entries[0];
    assert_eq!(
        (
            system.destination_cidr_block.as_str(),
            system.r#type(),
            system.next_hop_type(),
            system.route_table_id.as_str()
        ),
        ("172.16.0.0/12", pb::RouteEntryType::System, pb::NextHopType::Local, vtb.as_str())
    );
    assert_eq!((system.route_entry_id.as_str(), system.next_hop_id.as_str()), ("", vpc.as_str()));
    let delete_system = pb::DeleteRouteEntryRequest {
        route_table_id: vtb.clone(),
        destination_cidr_block: "172.16.0.0/12".into(),
        ..Default::default()
    };
    let result = vpcs.delete_route_entry(delete_system).await;
    refused("system entry", result, Code::FailedPrecondition, "OperationDenied.SystemRouteEntry", None);

    // A custom entry.
    let mut request = route(&vtb, "10.0.0.0/8", &end);
    request.route_entry_name = "to-b".into();
    let custom_id = vpcs.create_route_entry(request).await.unwrap().into_inner().route_entry_id;
    assert!(custom_id.starts_with("rte-"), "{custom_id}");
    let custom = list(&mut vpcs, pb::DescribeRouteEntryListRequest { route_entry_type: 2, ..table(&vtb) }).await;
    assert_eq!(custom.total_count, 1, "{custom:?}");
    let e = &custom.route_entries[0];
    assert_eq!(
        (
            e.route_entry_id.as_str(),
            e.destination_cidr_block.as_str(),
            e.next_hop_id.as_str(),
            e.route_entry_name.as_str()
        ),
        (custom_id.as_str(), "10.0.0.0/8", end.as_str(), "to-b")
    );
    assert_eq!((e.r#type(), e.next_hop_type()), (pb::RouteEntryType::Custom, pb::NextHopType::RouterInterface));

    // The rules of CreateRouteEntry, each with its code.
    let dest = Some("destination_cidr_block");
    let cases: Vec<(&str, pb::CreateRouteEntryRequest, Code, &str, Option<&str>)> = vec![
        ("not a CIDR", route(&vtb, "nonsense", &end), BAD, "InvalidDestinationCidrBlock.Malformed", dest),
        ("host bits", route(&vtb, "10.1.0.1/16", &end), BAD, "InvalidDestinationCidrBlock.Malformed", dest),
        ("prefix 33", route(&vtb, "10.0.0.0/33", &end), BAD, "InvalidDestinationCidrBlock.Malformed", dest),
        ("duplicate", route(&vtb, "10.0.0.0/8", &end), Code::AlreadyExists, "InvalidCIDRBlock.Duplicate", dest),
        ("inside the VPC", route(&vtb, "172.16.1.0/24", &end), BAD, "InvalidDestinationCidrBlock.InsideVpc", dest),
        ("the VPC's block", route(&vtb, "172.16.0.0/12", &end), BAD, "InvalidDestinationCidrBlock.InsideVpc", dest),
        (
            "no such next hop",
            route(&vtb, "11.0.0.0/8", NO_RI),
            NOT_FOUND,
            "InvalidRouterInterfaceId.NotFound",
            Some("next_hop_id"),
        ),
        ("another router's end", route(&vtb, "11.0.0.0/8", &other_end), BAD, "IncorrectNextHop", Some("next_hop_id")),
        (
            "no such table",
            route("vtb-0000000000000000000000", "11.0.0.0/8", &end),
            NOT_FOUND,
            "InvalidRouteTableId.NotFound",
            Some("route_table_id"),
        ),
        (
            "next_hop_type missing",
            pb::CreateRouteEntryRequest { next_hop_type: 0, ..route(&vtb, "11.0.0.0/8", &end) },
            BAD,
            "MissingParameter",
            Some("next_hop_type"),
        ),
    ];
    for (case, request, code, why, field) in cases {
        refused(case, vpcs.create_route_entry(request).await, code, why, field);
    }
    assert_eq!(list(&mut vpcs, table(&vtb)).await.total_count, 2, "refusals leave the table as it was");

    // Paging and filters: system first, then custom entries in creation order.
    let second = create_ri(&mut ris, initiator(&sibling("vrt", &vpc))).await;
    add_route(&mut vpcs, &vtb, "192.168.0.0/16", &end).await;
    add_route(&mut vpcs, &vtb, "100.64.0.0/10", &second).await;
    let all = list(&mut vpcs, table(&vtb)).await;
    assert_eq!(destinations(&all), ["172.16.0.0/12", "10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10"]);
    let mut pages = Vec::new();
    for page_number in 1..=3 {
        let page =
            list(&mut vpcs, pb::DescribeRouteEntryListRequest { page_number, page_size: 3, ..table(&vtb) }).await;
        assert_eq!((page.total_count, page.page_number, page.page_size), (4, page_number, 3));
        pages.push(destinations(&page).into_iter().map(str::to_owned).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec!["172.16.0.0/12", "10.0.0.0/8", "192.168.0.0/16"], vec!["100.64.0.0/10"], vec![]]);
    let filtered = [
        (pb::DescribeRouteEntryListRequest { route_entry_type: 1, ..table(&vtb) }, vec!["172.16.0.0/12"]),
        (
            pb::DescribeRouteEntryListRequest { route_entry_type: 2, ..table(&vtb) },
            vec!["10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10"],
        ),
        (
            pb::DescribeRouteEntryListRequest { destination_cidr_block: "192.168.0.0/16".into(), ..table(&vtb) },
            vec!["192.168.0.0/16"],
        ),
        (
            pb::DescribeRouteEntryListRequest { next_hop_id: end.clone(), ..table(&vtb) },
            vec!["10.0.0.0/8", "192.168.0.0/16"],
        ),
        (pb::DescribeRouteEntryListRequest { next_hop_id: second.clone(), ..table(&vtb) }, vec!["100.64.0.0/10"]),
        (pb::DescribeRouteEntryListRequest { next_hop_id: NO_RI.into(), ..table(&vtb) }, vec![]),
        // The destination filter matches the block, however its prefix length is written.
        (
            pb::DescribeRouteEntryListRequest { destination_cidr_block: "192.168.0.0/016".into(), ..table(&vtb) },
            vec!["192.168.0.0/16"],
        ),
    ];
    for (request, expected) in filtered {
        let what = format!("{request:?}");
        let found = list(&mut vpcs, request).await;
        assert_eq!(destinations(&found), expected, "{what}");
        assert_eq!(found.total_count as usize, expected.len(), "{what}");
    }
    let result = vpcs.describe_route_entry_list(table("vtb-0000000000000000000000")).await;
    refused("describe an unknown table", result, NOT_FOUND, "InvalidRouteTableId.NotFound", Some("route_table_id"));

    // Delete by id and by table + destination; a deleted entry is gone.
    remove_route(&mut vpcs, &custom_id).await;
    let by_destination = pb::DeleteRouteEntryRequest {
        route_table_id: vtb.clone(),
        destination_cidr_block: "192.168.0.0/16".into(),
        ..Default::default()
    };
    vpcs.delete_route_entry(by_destination.clone()).await.unwrap();
    let result = vpcs.delete_route_entry(by_destination).await;
    refused("deleted twice", result, NOT_FOUND, "InvalidRouteEntry.NotFound", dest);
    assert_eq!(destinations(&list(&mut vpcs, table(&vtb)).await), ["172.16.0.0/12", "100.64.0.0/10"]);
}

/// Delete preconditions: an end a route points at, an end not Idle or Suspended, a VPC or VBR with custom
/// entries or with router interfaces. VBRs have a route table too.
#[tokio::test]
async fn routes_and_ends_hold_back_deletes_of_ends_vpcs_and_vbrs() {
    let svc = Service::start(Binary::Initiator, None).await;
    let (mut vpcs, mut ris) = clients(&svc).await;
    let pre = Code::FailedPrecondition;

    let (vpc, vtb, end) = vpc_with_end(&mut vpcs, &mut ris, "172.16.0.0/12").await;
    let entry = add_route(&mut vpcs, &vtb, "10.0.0.0/8", &end).await;
    denied(delete(&svc, &end).await, pre, "DependencyViolation.RouterInterfaceReferedByRouteEntry", &entry);
    let delete_vpc = |id: &str| pb::DeleteVpcRequest { vpc_id: id.into(), ..Default::default() };
    denied(vpcs.delete_vpc(delete_vpc(&vpc)).await, pre, "DependencyViolation.RouteEntry", &entry);
    remove_route(&mut vpcs, &entry).await;
    denied(vpcs.delete_vpc(delete_vpc(&vpc)).await, pre, "DependencyViolation.RouterInterface", &end);
    delete(&svc, &end).await.unwrap();
    vpcs.delete_vpc(delete_vpc(&vpc)).await.unwrap();

    // A VBR's table: no system entry, custom entries towards the VBR's router interfaces.
    let vbr = create_vbr(&mut vpcs, HZ, AP_HZ).await;
    let vbr_table = sibling("vtb", &vbr);
    let vbr_end = create_ri(&mut ris, vbr_initiator(&vbr)).await;
    assert_eq!(list(&mut vpcs, table(&vbr_table)).await.total_count, 0);
    let vbr_entry = add_route(&mut vpcs, &vbr_table, "172.16.0.0/12", &vbr_end).await;
    let (_, _, vpc_end) = vpc_with_end(&mut vpcs, &mut ris, "192.168.0.0/16").await;
    let result = vpcs.create_route_entry(route(&vbr_table, "10.0.0.0/8", &vpc_end)).await;
    refused("a VPC's end from a VBR's table", result, BAD, "IncorrectNextHop", Some("next_hop_id"));
    let listed = list(&mut vpcs, table(&vbr_table)).await;
    assert_eq!(destinations(&listed), ["172.16.0.0/12"]);
    assert_eq!(listed.route_entries[0].r#type(), pb::RouteEntryType::Custom);
    let delete_vbr = |id: &str| pb::DeleteVirtualBorderRouterRequest { vbr_id: id.into(), ..Default::default() };
    denied(delete(&svc, &vbr_end).await, pre, "DependencyViolation.RouterInterfaceReferedByRouteEntry", &vbr_entry);
    denied(
        vpcs.delete_virtual_border_router(delete_vbr(&vbr)).await,
        pre,
        "DependencyViolation.RouteEntry",
        &vbr_entry,
    );
    remove_route(&mut vpcs, &vbr_entry).await;
    let result = vpcs.delete_virtual_border_router(delete_vbr(&vbr)).await;
    denied(result, pre, "DependencyViolation.RouterInterface", &vbr_end);
    delete(&svc, &vbr_end).await.unwrap();
    vpcs.delete_virtual_border_router(delete_vbr(&vbr)).await.unwrap();

    // Only an Idle or Suspended end can be deleted, even with no route pointing at it.
    let (vpc_1, _) = create_vpc(&mut vpcs, HZ, "10.0.0.0/8").await;
    let (vpc_2, _) = create_vpc(&mut vpcs, HZ, "100.64.0.0/10").await;
    let created = ris.create_peering_connection(same_account_peering(&vpc_1, &vpc_2)).await.unwrap().into_inner();
    let ends = Ends { initiator: created.initiator_interface_id, acceptor: created.acceptor_interface_id };
    assert_eq!(describe(&mut ris, &ends.initiator).await.status(), pb::Status::Activated);
    denied(delete(&svc, &ends.initiator).await, pre, "IncorrectStatus", "Idle or Suspended");
    assert_eq!(suspend(&svc, &ends.initiator).await.unwrap(), pb::Status::Suspended);
    delete(&svc, &ends.initiator).await.unwrap();
}

/// At most one connection between two routers, and none from a router to itself.
#[tokio::test]
async fn one_connection_between_two_routers_and_none_to_itself() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let ((mut vpcs_a, mut ris_a), mut ris_b) = (clients(&a).await, b.router_interfaces().await);

    // Across accounts: a second pair of ends between the same two VPCs cannot connect.
    let first = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &first.initiator).await.unwrap();
    wait_agreement(&a, &b, &first, SETTLE).await;
    let (vpc_a, _, _) = router_of(&mut ris_a, &first.initiator).await;
    let (vpc_b, _, _) = router_of(&mut ris_b, &first.acceptor).await;
    let second = ends_between(&a, &b, ACCOUNT_B, &vpc_a, &vpc_b, &Terms::default()).await;
    let (second_initiator, second_acceptor) = (second.initiator, second.acceptor);
    // B refuses it, naming its end of the existing connection.
    let result = connect(&a, &second_initiator).await;
    denied(result, Code::FailedPrecondition, "Forbidden.OnlyOneConnection", &first.acceptor);
    let refused_end = describe(&mut ris_a, &second_initiator).await;
    assert_eq!(refused_end.status(), pb::Status::Idle);
    assert!(refused_end.last_error.contains("Forbidden.OnlyOneConnection"), "{refused_end:?}");
    assert_eq!(describe(&mut ris_b, &second_acceptor).await.status(), pb::Status::Idle);
    // Once A's owner deleted its end of the first connection, the second connects, though asked at once on
    // the same channel: B hears of the deletion before it checks the connect.
    assert_eq!(suspend(&a, &first.initiator).await.unwrap(), pb::Status::Suspended);
    let delete =
        pb::DeleteRouterInterfaceRequest { router_interface_id: first.initiator.clone(), ..Default::default() };
    ris_a.delete_router_interface(delete).await.unwrap();
    let request =
        pb::ConnectRouterInterfaceRequest { router_interface_id: second_initiator.clone(), ..Default::default() };
    let connected = ris_a.connect_router_interface(request).await.map(|r| r.into_inner().status());
    assert_eq!(connected.unwrap(), pb::Status::Activated, "the second connection, once the first is gone");
    let second = Ends { initiator: second_initiator, acceptor: second_acceptor };
    wait_agreement(&a, &b, &second, SETTLE).await;

    // Within one account: the console form refuses the same VPC on both sides, and creates nothing.
    let before = count_router_interfaces(&mut ris_a).await;
    let (vpc, vrt) = create_vpc(&mut vpcs_a, HZ, "192.168.0.0/16").await;
    let result = ris_a.create_peering_connection(same_account_peering(&vpc, &vpc)).await;
    denied(result, BAD, "IncorrectOppositeInterfaceInfo", "Cannot connect on the same router");
    // ... and so does a second connection between two VPCs already connected.
    let (other, _) = create_vpc(&mut vpcs_a, HZ, "10.0.0.0/8").await;
    ris_a.create_peering_connection(same_account_peering(&vpc, &other)).await.unwrap();
    let result = ris_a.create_peering_connection(same_account_peering(&vpc, &other)).await;
    denied(result, Code::FailedPrecondition, "Forbidden.OnlyOneConnection", "only one connection");
    assert_eq!(count_router_interfaces(&mut ris_a).await, before + 2);

    // Ends made one by one on the same vRouter, naming each other, cannot connect.
    let names_same = |mut r: pb::CreateRouterInterfaceRequest| {
        r.opposite_region_id = HZ.into();
        r.opposite_router_id = vrt.clone();
        r.opposite_interface_owner_id = ACCOUNT_A.into();
        r
    };
    let ini = create_ri(&mut ris_a, names_same(initiator(&vrt))).await;
    let mut acc_request = names_same(acceptor(&vrt));
    acc_request.opposite_interface_id = ini.clone();
    let acc = create_ri(&mut ris_a, acc_request).await;
    ris_a
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: ini.clone(),
            opposite_interface_id: Some(acc.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let result = connect(&a, &ini).await;
    let status = result.expect_err("a connect on the same router");
    assert_eq!(reason(&status), "IncorrectOppositeInterfaceInfo", "{status:?}");
    assert!(status.message().contains("Cannot connect on the same router"), "{status:?}");
    assert_eq!(describe(&mut ris_a, &ini).await.status(), pb::Status::Idle);
    assert_eq!(describe(&mut ris_a, &acc).await.status(), pb::Status::Idle);
}

/// The seed's section 5 across two accounts: routes on both sides hold back the deletes of both ends;
/// then routes go, both owners suspend, both ends go, and both accounts are clean.
#[tokio::test]
async fn seed_section_5_delete_procedure_across_accounts() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let ((mut vpcs_a, mut ris_a), (mut vpcs_b, mut ris_b)) = (clients(&a).await, clients(&b).await);
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    connect(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    let (vpc_a, vtb_a, _) = router_of(&mut ris_a, &ends.initiator).await;
    let (vpc_b, vtb_b, _) = router_of(&mut ris_b, &ends.acceptor).await;
    let route_a = add_route(&mut vpcs_a, &vtb_a, "10.0.0.0/8", &ends.initiator).await;
    let route_b = add_route(&mut vpcs_b, &vtb_b, "172.16.0.0/12", &ends.acceptor).await;

    let referred = "DependencyViolation.RouterInterfaceReferedByRouteEntry";
    denied(delete(&a, &ends.initiator).await, Code::FailedPrecondition, referred, &route_a);
    denied(delete(&b, &ends.acceptor).await, Code::FailedPrecondition, referred, &route_b);
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Activated, pb::Status::Activated), "refusals change nothing");

    remove_route(&mut vpcs_a, &route_a).await;
    remove_route(&mut vpcs_b, &route_b).await;
    // Still Activated: not deletable yet.
    denied(delete(&a, &ends.initiator).await, Code::FailedPrecondition, "IncorrectStatus", "Idle or Suspended");
    suspend(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    suspend(&b, &ends.acceptor).await.unwrap();
    let (i, ac) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), ac.status()), (pb::Status::Suspended, pb::Status::Suspended));
    let mut held = i.suspended_by.clone();
    held.sort();
    assert_eq!(held, [ACCOUNT_A, ACCOUNT_B]);
    delete(&a, &ends.initiator).await.unwrap();
    delete(&b, &ends.acceptor).await.unwrap();

    for (svc, vpcs, ris, vpc, vtb) in
        [(&a, &mut vpcs_a, &mut ris_a, &vpc_a, &vtb_a), (&b, &mut vpcs_b, &mut ris_b, &vpc_b, &vtb_b)]
    {
        assert_eq!(count_router_interfaces(ris).await, 0, "{:?} has no ends", svc.binary);
        let custom = list(vpcs, pb::DescribeRouteEntryListRequest { route_entry_type: 2, ..table(vtb) }).await;
        assert_eq!(custom.total_count, 0, "{:?}: {custom:?}", svc.binary);
        vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: vpc.clone(), ..Default::default() }).await.unwrap();
    }
}

/// CheckReachability on both services through the life of one connection: both sides, suspensions by
/// each owner, a missing return route, a destination outside the peer VPC, activation, and deletion.
#[tokio::test]
async fn reachability_across_two_accounts_follows_the_connection_and_the_routes() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let ((mut vpcs_a, mut ris_a), (mut vpcs_b, mut ris_b)) = (clients(&a).await, clients(&b).await);
    let ends = prepare_connection(&a, &b, ACCOUNT_B).await;
    let (vpc_a, vtb_a, _) = router_of(&mut ris_a, &ends.initiator).await;
    let (vpc_b, vtb_b, _) = router_of(&mut ris_b, &ends.acceptor).await;
    let (in_b, in_a) = ("10.1.2.3", "172.16.5.6");

    // Inside the source VPC: the system route, whatever else holds.
    let own = reach(&mut vpcs_a, &vpc_a, "172.31.255.1").await;
    assert!(own.reachable && own.hops.iter().any(|h| h.contains("system route")), "{own:?}");
    assert!(reach(&mut vpcs_b, &vpc_b, "10.200.0.1").await.reachable);

    // Routes before the connection: not connected yet.
    let route_a = add_route(&mut vpcs_a, &vtb_a, "10.0.0.0/8", &ends.initiator).await;
    let not_connected = reach(&mut vpcs_a, &vpc_a, in_b).await;
    assert!(!not_connected.reachable && not_connected.reason.contains("not connected"), "{not_connected:?}");
    assert_eq!(not_connected.failed_hop, ends.initiator);
    assert!(reach(&mut vpcs_b, &vpc_b, in_a).await.reason.contains("no route to"));

    connect(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    // A has a route, B not yet: no way back.
    let one_way = reach_until(&a, &vpc_a, in_b, false, "no return route in vtb-").await;
    assert_eq!(one_way.failed_hop, vtb_b);
    let mut route_b = add_route(&mut vpcs_b, &vtb_b, "172.16.0.0/12", &ends.acceptor).await;
    let there = reach_until(&a, &vpc_a, in_b, true, "").await;
    assert!(there.hops.iter().any(|h| h.contains(&ends.acceptor)), "{there:?}");
    reach_until(&b, &vpc_b, in_a, true, "").await;

    // A route covering more than the peer VPC: the rest is not there.
    let wide = add_route(&mut vpcs_a, &vtb_a, "11.0.0.0/8", &ends.initiator).await;
    let outside = reach(&mut vpcs_a, &vpc_a, "11.1.1.1").await;
    assert!(!outside.reachable && outside.reason.contains("the peer VPC does not hold it"), "{outside:?}");
    remove_route(&mut vpcs_a, &wide).await;
    let no_route = reach(&mut vpcs_a, &vpc_a, "11.1.1.1").await;
    assert!(!no_route.reachable && no_route.reason.contains("no route to 11.1.1.1"), "{no_route:?}");

    // Suspended by either owner, seen from both sides; reachable again after activation.
    for (svc, end, account) in [(&a, &ends.initiator, ACCOUNT_A), (&b, &ends.acceptor, ACCOUNT_B)] {
        suspend(svc, end).await.unwrap();
        wait_agreement(&a, &b, &ends, SETTLE).await;
        let why = format!("suspended by account {account}");
        reach_until(&a, &vpc_a, in_b, false, &why).await;
        reach_until(&b, &vpc_b, in_a, false, &why).await;
        activate(svc, end).await.unwrap();
        wait_agreement(&a, &b, &ends, SETTLE).await;
        reach_until(&a, &vpc_a, in_b, true, "").await;
        reach_until(&b, &vpc_b, in_a, true, "").await;
    }

    // Without B's return route, A's traffic has no way back, and B has no route out.
    remove_route(&mut vpcs_b, &route_b).await;
    reach_until(&a, &vpc_a, in_b, false, "no return route in vtb-").await;
    reach_until(&b, &vpc_b, in_a, false, "no route to").await;
    route_b = add_route(&mut vpcs_b, &vtb_b, "172.16.0.0/12", &ends.acceptor).await;
    reach_until(&a, &vpc_a, in_b, true, "").await;
    reach_until(&b, &vpc_b, in_a, true, "").await;

    // Deletion of A's end (after its route): A has no route, B's route leads to an end not connected.
    remove_route(&mut vpcs_a, &route_a).await;
    reach_until(&b, &vpc_b, in_a, false, "no return route in vtb-").await;
    suspend(&a, &ends.initiator).await.unwrap();
    wait_agreement(&a, &b, &ends, SETTLE).await;
    delete(&a, &ends.initiator).await.unwrap();
    reach_until(&a, &vpc_a, in_b, false, "no route to").await;
    reach_until(&b, &vpc_b, in_a, false, "not connected").await;
    remove_route(&mut vpcs_b, &route_b).await;
    reach_until(&b, &vpc_b, in_a, false, "no route to").await;
    delete(&b, &ends.acceptor).await.unwrap();
}

/// A VBR of account A peers with a VPC of account B; routes towards each other's blocks make the VPC
/// reachable from the VBR, and the on-premises block reachable from the VPC.
#[tokio::test]
async fn a_vbr_reaches_a_vpc_of_another_account() {
    let (a, b) = start_pair(&Flags::default(), None, None).await;
    let ((mut vpcs_a, mut ris_a), (mut vpcs_b, mut ris_b)) = (clients(&a).await, clients(&b).await);
    let vbr = create_vbr(&mut vpcs_a, HZ, AP_HZ).await;
    let (vpc_b, _) = create_vpc(&mut vpcs_b, SH, "10.0.0.0/8").await;
    let form = pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VbrToVpc as i32,
        routers_to_create: pb::RoutersToCreate::InitiatorOnly as i32,
        local_region_id: HZ.into(),
        local_router_id: vbr.clone(),
        peer_region_id: SH.into(),
        peer_router_id: vpc_b.clone(),
        peer_account_id: ACCOUNT_B.into(),
        bandwidth: "Large.1".into(),
        ..Default::default()
    };
    let initiator_end = ris_a.create_peering_connection(form).await.unwrap().into_inner().initiator_interface_id;
    let form = pb::CreatePeeringConnectionRequest {
        account_type: pb::AccountType::Different as i32,
        connection_type: pb::ConnectionType::VbrToVpc as i32,
        routers_to_create: pb::RoutersToCreate::AcceptorOnly as i32,
        local_region_id: SH.into(),
        local_router_id: vpc_b.clone(),
        peer_region_id: HZ.into(),
        peer_router_id: vbr.clone(),
        peer_account_id: ACCOUNT_A.into(),
        peer_interface_id: initiator_end.clone(),
        ..Default::default()
    };
    let acceptor_end = ris_b.create_peering_connection(form).await.unwrap().into_inner().acceptor_interface_id;
    ris_a
        .modify_router_interface_attribute(pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: initiator_end.clone(),
            opposite_interface_id: Some(acceptor_end.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let ends = Ends { initiator: initiator_end, acceptor: acceptor_end };
    connect(&a, &ends.initiator).await.unwrap();
    let (i, _) = wait_agreement(&a, &b, &ends, SETTLE).await;
    assert_eq!((i.status(), i.router_id.as_str()), (pb::Status::Activated, vbr.as_str()));

    let vbr_table = sibling("vtb", &vbr);
    add_route(&mut vpcs_a, &vbr_table, "10.0.0.0/8", &ends.initiator).await;
    add_route(&mut vpcs_b, &sibling("vtb", &vpc_b), "192.168.0.0/16", &ends.acceptor).await;
    let answer = reach_until(&a, &vbr, "10.20.30.40", true, "").await;
    assert!(answer.hops.iter().any(|h| h.contains(&vbr_table)), "{answer:?}");
    reach_until(&b, &vpc_b, "192.168.1.10", true, "").await;
    let outside = reach(&mut vpcs_a, &vbr, "172.16.0.1").await;
    assert!(!outside.reachable && outside.reason.contains("no route to"), "{outside:?}");
}
