//! `expressconnect.v1.VpcService`.

use tonic::{Request, Response, Status};

use super::convert::{decode, int32, time, vbr_to_pb, vpc_to_pb};
use super::{change, query};
use crate::account::{Account, NewRouteEntry, NewVbr, NewVpc, NextHopType, PageRequest, RouteEntryFilter, RouteRow};
use crate::api::v1::{self as pb, vpc_service_server::VpcService};

#[derive(Debug, Clone)]
pub struct VpcApi {
    account: Account,
}

impl VpcApi {
    pub fn new(account: Account) -> Self {
        Self { account }
    }
}

#[tonic::async_trait]
impl VpcService for VpcApi {
    async fn create_vpc(
        &self,
        request: Request<pb::CreateVpcRequest>,
    ) -> Result<Response<pb::CreateVpcResponse>, Status> {
        let r = request.into_inner();
        let cmd =
            NewVpc { region_id: r.region_id, cidr_block: r.cidr_block, name: r.vpc_name, description: r.description };
        let created = change(&self.account, move |a| a.create_vpc(cmd, &r.client_token)).await?;
        Ok(Response::new(pb::CreateVpcResponse {
            vpc_id: created.vpc_id,
            vrouter_id: created.vrouter_id,
            route_table_id: created.route_table_id,
        }))
    }

    async fn describe_vpcs(
        &self,
        request: Request<pb::DescribeVpcsRequest>,
    ) -> Result<Response<pb::DescribeVpcsResponse>, Status> {
        let r = request.into_inner();
        let page = query(&self.account, move |a| {
            a.describe_vpcs(&r.region_id, &r.vpc_ids, PageRequest::new(r.page_number, r.page_size)?)
        })
        .await?;
        let owner = self.account.account_id();
        Ok(Response::new(pb::DescribeVpcsResponse {
            vpcs: page.items.into_iter().map(|v| vpc_to_pb(v, owner)).collect(),
            total_count: int32(page.total_count),
            page_number: int32(page.number),
            page_size: int32(page.size),
        }))
    }

    async fn delete_vpc(
        &self,
        request: Request<pb::DeleteVpcRequest>,
    ) -> Result<Response<pb::DeleteVpcResponse>, Status> {
        let r = request.into_inner();
        change(&self.account, move |a| a.delete_vpc(&r.vpc_id, &r.client_token)).await?;
        Ok(Response::new(pb::DeleteVpcResponse {}))
    }

    async fn create_virtual_border_router(
        &self,
        request: Request<pb::CreateVirtualBorderRouterRequest>,
    ) -> Result<Response<pb::CreateVirtualBorderRouterResponse>, Status> {
        let r = request.into_inner();
        let cmd = NewVbr {
            region_id: r.region_id,
            access_point_id: r.access_point_id,
            name: r.name,
            description: r.description,
        };
        let vbr_id = change(&self.account, move |a| a.create_vbr(cmd, &r.client_token)).await?;
        Ok(Response::new(pb::CreateVirtualBorderRouterResponse { vbr_id }))
    }

    async fn describe_virtual_border_routers(
        &self,
        request: Request<pb::DescribeVirtualBorderRoutersRequest>,
    ) -> Result<Response<pb::DescribeVirtualBorderRoutersResponse>, Status> {
        let r = request.into_inner();
        let page = query(&self.account, move |a| {
            a.describe_vbrs(&r.region_id, &r.vbr_ids, PageRequest::new(r.page_number, r.page_size)?)
        })
        .await?;
        let owner = self.account.account_id();
        Ok(Response::new(pb::DescribeVirtualBorderRoutersResponse {
            virtual_border_routers: page.items.into_iter().map(|v| vbr_to_pb(v, owner)).collect(),
            total_count: int32(page.total_count),
            page_number: int32(page.number),
            page_size: int32(page.size),
        }))
    }

    async fn delete_virtual_border_router(
        &self,
        request: Request<pb::DeleteVirtualBorderRouterRequest>,
    ) -> Result<Response<pb::DeleteVirtualBorderRouterResponse>, Status> {
        let r = request.into_inner();
        change(&self.account, move |a| a.delete_vbr(&r.vbr_id, &r.client_token)).await?;
        Ok(Response::new(pb::DeleteVirtualBorderRouterResponse {}))
    }

    async fn create_route_entry(
        &self,
        request: Request<pb::CreateRouteEntryRequest>,
    ) -> Result<Response<pb::CreateRouteEntryResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token.clone();
        let route_entry_id = change(&self.account, move |a| {
            let cmd = NewRouteEntry {
                next_hop_type: decode("next_hop_type", r.next_hop_type, next_hop_type)?,
                route_table_id: r.route_table_id,
                destination_cidr_block: r.destination_cidr_block,
                next_hop_id: r.next_hop_id,
                name: r.route_entry_name,
            };
            a.create_route_entry(cmd, &token)
        })
        .await?;
        Ok(Response::new(pb::CreateRouteEntryResponse { route_entry_id }))
    }

    async fn delete_route_entry(
        &self,
        request: Request<pb::DeleteRouteEntryRequest>,
    ) -> Result<Response<pb::DeleteRouteEntryResponse>, Status> {
        let r = request.into_inner();
        change(&self.account, move |a| {
            a.delete_route_entry(&r.route_entry_id, &r.route_table_id, &r.destination_cidr_block, &r.client_token)
        })
        .await?;
        Ok(Response::new(pb::DeleteRouteEntryResponse {}))
    }

    async fn describe_route_entry_list(
        &self,
        request: Request<pb::DescribeRouteEntryListRequest>,
    ) -> Result<Response<pb::DescribeRouteEntryListResponse>, Status> {
        let r = request.into_inner();
        let page = query(&self.account, move |a| {
            let system = decode("route_entry_type", r.route_entry_type, |t: pb::RouteEntryType| match t {
                pb::RouteEntryType::Unspecified => None,
                pb::RouteEntryType::System => Some(true),
                pb::RouteEntryType::Custom => Some(false),
            })?;
            let filter = RouteEntryFilter {
                route_table_id: r.route_table_id,
                system,
                destination_cidr_block: r.destination_cidr_block,
                next_hop_id: r.next_hop_id,
            };
            a.describe_route_entries(&filter, PageRequest::new(r.page_number, r.page_size)?)
        })
        .await?;
        Ok(Response::new(pb::DescribeRouteEntryListResponse {
            route_entries: page.items.into_iter().map(route_row_to_pb).collect(),
            total_count: int32(page.total_count),
            page_number: int32(page.number),
            page_size: int32(page.size),
        }))
    }

    async fn check_reachability(
        &self,
        request: Request<pb::CheckReachabilityRequest>,
    ) -> Result<Response<pb::CheckReachabilityResponse>, Status> {
        let r = request.into_inner();
        let answer = query(&self.account, move |a| a.check_reachability(&r.source_id, &r.destination_ip)).await?;
        Ok(Response::new(pb::CheckReachabilityResponse {
            reachable: answer.reachable,
            hops: answer.hops,
            failed_hop: answer.failed_hop,
            reason: answer.reason,
        }))
    }
}

fn next_hop_type(t: pb::NextHopType) -> Option<NextHopType> {
    match t {
        pb::NextHopType::Unspecified => None,
        pb::NextHopType::RouterInterface => Some(NextHopType::RouterInterface),
        pb::NextHopType::Local => Some(NextHopType::Local),
    }
}

fn route_row_to_pb(row: RouteRow) -> pb::RouteEntry {
    let (kind, hop) = if row.system {
        (pb::RouteEntryType::System, pb::NextHopType::Local)
    } else {
        (pb::RouteEntryType::Custom, pb::NextHopType::RouterInterface)
    };
    pb::RouteEntry {
        route_entry_id: row.entry.route_entry_id,
        route_table_id: row.entry.route_table_id,
        destination_cidr_block: row.entry.destination_cidr_block,
        r#type: kind.into(),
        next_hop_type: hop.into(),
        next_hop_id: row.entry.next_hop_id,
        route_entry_name: row.entry.name,
        creation_time: time(row.entry.creation_time),
    }
}
