//! What the demo made, so that a run that fails part way still deletes it (best effort, in the seed's
//! order: route entries, router interfaces, then VPCs and VBRs).

use std::time::Duration;

use shared::api::v1 as pb;

use crate::client::{Api, Failure};
use crate::wait;

/// Which account's service holds a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    A,
    B,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    Route { who: Who, id: String },
    End { who: Who, id: String },
    Vpc { who: Who, id: String },
    Vbr { who: Who, id: String },
}

impl std::fmt::Display for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Made::Route { id, .. } => write!(f, "route entry {id}"),
            Made::End { id, .. } => write!(f, "router interface {id}"),
            Made::Vpc { id, .. } => write!(f, "VPC {id}"),
            Made::Vbr { id, .. } => write!(f, "VBR {id}"),
        }
    }
}

impl Made {
    /// The account whose service holds it.
    pub fn who(&self) -> Who {
        match self {
            Made::Route { who, .. } | Made::End { who, .. } | Made::Vpc { who, .. } | Made::Vbr { who, .. } => *who,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Made::Route { .. } => 0,
            Made::End { .. } => 1,
            Made::Vpc { .. } | Made::Vbr { .. } => 2,
        }
    }
}

#[derive(Debug, Default)]
pub struct Inventory(Vec<Made>);

impl Inventory {
    pub fn add(&mut self, made: Made) {
        self.0.push(made);
    }

    /// `made` was deleted.
    pub fn forget(&mut self, made: &Made) {
        self.0.retain(|m| m != made);
    }

    /// What is left, oldest first.
    pub fn remaining(&self) -> Vec<Made> {
        self.0.clone()
    }

    /// Deletes everything left, ignoring refusals; returns what could not be deleted.
    pub async fn clean_up(&mut self, api: impl Fn(Who) -> Api, timeout: Duration) -> Vec<String> {
        let mut left = Vec::new();
        let mut items = std::mem::take(&mut self.0);
        // Newest first within each rank, so that a router goes after everything on it.
        items.reverse();
        items.sort_by_key(Made::rank);
        for made in items {
            if let Err(failure) = delete(&made, &mut api(made.who()), timeout).await {
                left.push(format!("{:?}'s {made}: {failure}", made.who()));
            }
        }
        left
    }
}

/// Deletes one thing the demo made.
pub async fn delete(made: &Made, api: &mut Api, timeout: Duration) -> Result<(), Failure> {
    match made {
        Made::Route { id, .. } => {
            let request = pb::DeleteRouteEntryRequest { route_entry_id: id.clone(), ..Default::default() };
            api.vpcs.delete_route_entry(request).await?;
        }
        Made::End { id, .. } => {
            // Only an Idle or Suspended end can go: let a change in flight finish, suspend it if it is up.
            let ri = match wait::until_settled(&mut api.ris, id, timeout).await {
                Err(Failure::Call(status)) if status.code() == tonic::Code::NotFound => return Ok(()),
                other => other?,
            };
            if ri.status() == pb::Status::Activated {
                let request =
                    pb::DeactivateRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
                api.ris.deactivate_router_interface(request).await?;
                wait::until_settled(&mut api.ris, id, timeout).await?;
            }
            let request = pb::DeleteRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
            api.ris.delete_router_interface(request).await?;
        }
        Made::Vpc { id, .. } => {
            api.vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: id.clone(), ..Default::default() }).await?;
        }
        Made::Vbr { id, .. } => {
            let request = pb::DeleteVirtualBorderRouterRequest { vbr_id: id.clone(), ..Default::default() };
            api.vpcs.delete_virtual_border_router(request).await?;
        }
    }
    Ok(())
}
