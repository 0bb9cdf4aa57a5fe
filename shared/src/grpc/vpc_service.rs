//! `expressconnect.v1.VpcService`.

use tonic::{Request, Response, Status};

use super::blocking;
use super::convert::{int32, vbr_to_pb, vpc_to_pb};
use crate::account::{Account, NewVbr, NewVpc, PageRequest};
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
        let created = blocking(&self.account, move |a| a.create_vpc(cmd, &r.client_token)).await?;
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
        let page = blocking(&self.account, move |a| {
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
        blocking(&self.account, move |a| a.delete_vpc(&r.vpc_id, &r.client_token)).await?;
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
        let vbr_id = blocking(&self.account, move |a| a.create_vbr(cmd, &r.client_token)).await?;
        Ok(Response::new(pb::CreateVirtualBorderRouterResponse { vbr_id }))
    }

    async fn describe_virtual_border_routers(
        &self,
        request: Request<pb::DescribeVirtualBorderRoutersRequest>,
    ) -> Result<Response<pb::DescribeVirtualBorderRoutersResponse>, Status> {
        let r = request.into_inner();
        let page = blocking(&self.account, move |a| {
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
        blocking(&self.account, move |a| a.delete_vbr(&r.vbr_id, &r.client_token)).await?;
        Ok(Response::new(pb::DeleteVirtualBorderRouterResponse {}))
    }
}
