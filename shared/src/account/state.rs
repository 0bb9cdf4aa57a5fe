//! The account's resources in memory, with the look-ups the operations need.

use std::collections::{BTreeMap, HashMap};

use crate::domain::model::{RouteEntry, RouterInterface, Vbr, Vpc};
use crate::domain::{DomainError, DomainResult, ids};
use crate::store::{Change, ClientTokenRecord, Snapshot};

#[derive(Debug, Default)]
pub struct AccountState {
    vpcs: BTreeMap<String, Vpc>,
    vbrs: BTreeMap<String, Vbr>,
    router_interfaces: BTreeMap<String, RouterInterface>,
    route_entries: BTreeMap<String, RouteEntry>,
    client_tokens: HashMap<String, ClientTokenRecord>,
}

impl AccountState {
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        Self {
            vpcs: snapshot.vpcs.into_iter().map(|v| (v.vpc_id.clone(), v)).collect(),
            vbrs: snapshot.vbrs.into_iter().map(|v| (v.vbr_id.clone(), v)).collect(),
            router_interfaces: snapshot
                .router_interfaces
                .into_iter()
                .map(|ri| (ri.router_interface_id.clone(), ri))
                .collect(),
            route_entries: snapshot.route_entries.into_iter().map(|e| (e.route_entry_id.clone(), e)).collect(),
            client_tokens: snapshot.client_tokens,
        }
    }

    /// Makes committed changes visible.
    pub fn apply(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::PutVpc(v) => {
                    self.vpcs.insert(v.vpc_id.clone(), v);
                }
                Change::DeleteVpc(id) => {
                    self.vpcs.remove(&id);
                }
                Change::PutVbr(v) => {
                    self.vbrs.insert(v.vbr_id.clone(), v);
                }
                Change::DeleteVbr(id) => {
                    self.vbrs.remove(&id);
                }
                Change::PutRouterInterface(ri) => {
                    self.router_interfaces.insert(ri.router_interface_id.clone(), *ri);
                }
                Change::DeleteRouterInterface(id) => {
                    self.router_interfaces.remove(&id);
                }
                Change::PutRouteEntry(e) => {
                    self.route_entries.insert(e.route_entry_id.clone(), e);
                }
                Change::DeleteRouteEntry(id) => {
                    self.route_entries.remove(&id);
                }
                Change::PutClientToken(key, record) => {
                    self.client_tokens.insert(key, record);
                }
            }
        }
    }

    pub fn client_token(&self, key: &str) -> Option<&ClientTokenRecord> {
        self.client_tokens.get(key)
    }

    pub fn vpcs(&self) -> impl Iterator<Item = &Vpc> {
        self.vpcs.values()
    }

    pub fn vbrs(&self) -> impl Iterator<Item = &Vbr> {
        self.vbrs.values()
    }

    pub fn router_interfaces(&self) -> impl Iterator<Item = &RouterInterface> {
        self.router_interfaces.values()
    }

    pub fn vpc(&self, field: &str, id: &str) -> DomainResult<&Vpc> {
        ids::parse(field, ids::VPC, id)?;
        self.vpcs.get(id).ok_or_else(|| {
            DomainError::not_found(field, "InvalidVpcId.NotFound", format!("VPC {id} does not exist in this account"))
        })
    }

    /// The VPC whose vRouter is `vrouter_id`.
    pub fn vpc_of_router(&self, field: &str, vrouter_id: &str) -> DomainResult<&Vpc> {
        ids::parse(field, ids::VROUTER, vrouter_id)?;
        self.vpcs.get(&format!("{}-{}", ids::VPC, ids::suffix(vrouter_id))).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouterId.NotFound",
                format!("vRouter {vrouter_id} does not exist in this account"),
            )
        })
    }

    pub fn vbr(&self, field: &str, id: &str) -> DomainResult<&Vbr> {
        ids::parse(field, ids::VBR, id)?;
        self.vbrs.get(id).ok_or_else(|| {
            DomainError::not_found(field, "InvalidVbrId.NotFound", format!("VBR {id} does not exist in this account"))
        })
    }

    pub fn router_interface(&self, field: &str, id: &str) -> DomainResult<&RouterInterface> {
        ids::parse(field, ids::ROUTER_INTERFACE, id)?;
        self.router_interfaces.get(id).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouterInterfaceId.NotFound",
                format!("router interface {id} does not exist in this account"),
            )
        })
    }

    pub fn route_entries(&self) -> impl Iterator<Item = &RouteEntry> {
        self.route_entries.values()
    }

    pub fn route_entry(&self, field: &str, id: &str) -> DomainResult<&RouteEntry> {
        ids::parse(field, ids::ROUTE_ENTRY, id)?;
        self.route_entries.get(id).ok_or_else(|| {
            DomainError::not_found(
                field,
                "InvalidRouteEntryId.NotFound",
                format!("route entry {id} does not exist in this account"),
            )
        })
    }

    /// The custom entries of one route table.
    pub fn entries_of_table<'a>(&'a self, route_table_id: &'a str) -> impl Iterator<Item = &'a RouteEntry> + 'a {
        self.route_entries.values().filter(move |e| e.route_table_id == route_table_id)
    }

    /// The custom entries whose next hop is `interface_id`.
    pub fn entries_via<'a>(&'a self, interface_id: &'a str) -> impl Iterator<Item = &'a RouteEntry> + 'a {
        self.route_entries.values().filter(move |e| e.next_hop_id == interface_id)
    }

    pub fn interfaces_on_router<'a>(&'a self, router_id: &'a str) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        self.router_interfaces.values().filter(move |ri| ri.router_id == router_id)
    }
}
