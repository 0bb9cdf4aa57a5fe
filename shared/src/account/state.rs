//! The account's resources in memory, with the look-ups the operations need.

use std::collections::{BTreeMap, HashMap};

use crate::domain::model::{RouterInterface, Vbr, Vpc};
use crate::domain::{DomainError, DomainResult, ids};
use crate::store::{Change, ClientTokenRecord, Snapshot};

#[derive(Debug, Default)]
pub struct AccountState {
    vpcs: BTreeMap<String, Vpc>,
    vbrs: BTreeMap<String, Vbr>,
    router_interfaces: BTreeMap<String, RouterInterface>,
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

    pub fn interfaces_on_router<'a>(&'a self, router_id: &'a str) -> impl Iterator<Item = &'a RouterInterface> + 'a {
        self.router_interfaces.values().filter(move |ri| ri.router_id == router_id)
    }
}
