//! VPCs and VBRs.

use serde::{Deserialize, Serialize};

use super::{Account, Context, DomainResult, Page, PageRequest};
use crate::domain::model::{Vbr, Vpc};
use crate::domain::{DomainError, catalog, ids, text};
use crate::store::Change;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVpc {
    pub region_id: String,
    pub cidr_block: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcCreated {
    pub vpc_id: String,
    pub vrouter_id: String,
    pub route_table_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVbr {
    pub region_id: String,
    pub access_point_id: String,
    pub name: String,
    pub description: String,
}

/// Refuses to delete a router whose route table has custom entries, or that router interfaces are
/// attached to, naming them.
fn check_router_unused(state: &super::AccountState, router_id: &str, what: &str) -> DomainResult<()> {
    let table = format!("{}-{}", ids::ROUTE_TABLE, ids::suffix(router_id));
    let entries: Vec<_> = state.entries_of_table(&table).map(|e| e.route_entry_id.as_str()).collect();
    if !entries.is_empty() {
        return Err(DomainError::precondition(
            "DependencyViolation.RouteEntry",
            format!("{what} still has custom route entries in {table}: {}; delete them first", entries.join(", ")),
        ));
    }
    let attached: Vec<_> = state.interfaces_on_router(router_id).map(|ri| ri.router_interface_id.as_str()).collect();
    if attached.is_empty() {
        Ok(())
    } else {
        Err(DomainError::precondition(
            "DependencyViolation.RouterInterface",
            format!("{what} still has router interfaces attached: {}; delete them first", attached.join(", ")),
        ))
    }
}

impl Account {
    pub fn create_vpc(&self, cmd: NewVpc, client_token: &str) -> DomainResult<VpcCreated> {
        self.execute("CreateVpc", client_token, &cmd, |_, ctx: &Context| {
            let region = catalog::region("region_id", &cmd.region_id)?;
            text::vpc_cidr("cidr_block", &cmd.cidr_block)?;
            text::name("vpc_name", &cmd.name)?;
            text::description("description", &cmd.description)?;
            let vpc_id = ids::new_id(ids::VPC);
            let suffix = ids::suffix(&vpc_id).to_owned();
            let vpc = Vpc {
                vrouter_id: format!("{}-{suffix}", ids::VROUTER),
                route_table_id: format!("{}-{suffix}", ids::ROUTE_TABLE),
                vpc_id,
                region_id: region.id.to_owned(),
                cidr_block: cmd.cidr_block.clone(),
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                creation_time: ctx.now,
            };
            let created = VpcCreated {
                vpc_id: vpc.vpc_id.clone(),
                vrouter_id: vpc.vrouter_id.clone(),
                route_table_id: vpc.route_table_id.clone(),
            };
            Ok((vec![Change::PutVpc(vpc)], created))
        })
    }

    pub fn describe_vpcs(&self, region_id: &str, vpc_ids: &[String], page: PageRequest) -> DomainResult<Page<Vpc>> {
        if !region_id.is_empty() {
            catalog::region("region_id", region_id)?;
        }
        ids::parse_list("vpc_ids", ids::VPC, vpc_ids)?;
        Ok(self.read(|state, _| {
            // Sorted by reference; only the page is cloned.
            let mut vpcs: Vec<&Vpc> = state
                .vpcs()
                .filter(|v| region_id.is_empty() || v.region_id == region_id)
                .filter(|v| vpc_ids.is_empty() || vpc_ids.contains(&v.vpc_id))
                .collect();
            vpcs.sort_by(|a, b| (a.creation_time, &a.vpc_id).cmp(&(b.creation_time, &b.vpc_id)));
            page.page_of(vpcs.into_iter())
        }))
    }

    pub fn delete_vpc(&self, vpc_id: &str, client_token: &str) -> DomainResult<()> {
        self.execute("DeleteVpc", client_token, &vpc_id, |state, _| {
            let vpc = state.vpc("vpc_id", vpc_id)?;
            check_router_unused(state, &vpc.vrouter_id, &format!("VPC {vpc_id}"))?;
            Ok((vec![Change::DeleteVpc(vpc_id.to_owned())], ()))
        })
    }

    pub fn create_vbr(&self, cmd: NewVbr, client_token: &str) -> DomainResult<String> {
        self.execute("CreateVirtualBorderRouter", client_token, &cmd, |_, ctx| {
            let region = catalog::region("region_id", &cmd.region_id)?;
            catalog::access_point("access_point_id", region, &cmd.access_point_id)?;
            text::name("name", &cmd.name)?;
            text::description("description", &cmd.description)?;
            let vbr_id = ids::new_id(ids::VBR);
            let vbr = Vbr {
                route_table_id: format!("{}-{}", ids::ROUTE_TABLE, ids::suffix(&vbr_id)),
                vbr_id: vbr_id.clone(),
                region_id: region.id.to_owned(),
                access_point_id: cmd.access_point_id.clone(),
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                creation_time: ctx.now,
            };
            Ok((vec![Change::PutVbr(vbr)], vbr_id))
        })
    }

    pub fn describe_vbrs(&self, region_id: &str, vbr_ids: &[String], page: PageRequest) -> DomainResult<Page<Vbr>> {
        if !region_id.is_empty() {
            catalog::region("region_id", region_id)?;
        }
        ids::parse_list("vbr_ids", ids::VBR, vbr_ids)?;
        Ok(self.read(|state, _| {
            let mut vbrs: Vec<&Vbr> = state
                .vbrs()
                .filter(|v| region_id.is_empty() || v.region_id == region_id)
                .filter(|v| vbr_ids.is_empty() || vbr_ids.contains(&v.vbr_id))
                .collect();
            vbrs.sort_by(|a, b| (a.creation_time, &a.vbr_id).cmp(&(b.creation_time, &b.vbr_id)));
            page.page_of(vbrs.into_iter())
        }))
    }

    pub fn delete_vbr(&self, vbr_id: &str, client_token: &str) -> DomainResult<()> {
        self.execute("DeleteVirtualBorderRouter", client_token, &vbr_id, |state, _| {
            state.vbr("vbr_id", vbr_id)?;
            check_router_unused(state, vbr_id, &format!("VBR {vbr_id}"))?;
            Ok((vec![Change::DeleteVbr(vbr_id.to_owned())], ()))
        })
    }
}
