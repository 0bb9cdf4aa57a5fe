//! Route tables: custom entries towards router interfaces, and reachability.

use serde::{Deserialize, Serialize};

use super::router_interfaces::propagate;
use super::{Account, AccountState, DomainResult, Page, PageRequest};
use crate::domain::model::{RouteEntry, RouterInterface, Vbr, Vpc};
use crate::domain::reachability::{self, Answer, Source};
use crate::domain::text::{self, Cidr};
use crate::domain::{DomainError, ErrorKind, ids};
use crate::store::Change;

/// A custom entry's next hop; the system entry's is the VPC itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextHopType {
    RouterInterface,
    Local,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRouteEntry {
    pub route_table_id: String,
    pub destination_cidr_block: String,
    pub next_hop_type: Option<NextHopType>,
    pub next_hop_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteEntryFilter {
    pub route_table_id: String,
    /// `Some(true)`: system entries only; `Some(false)`: custom entries only.
    pub system: Option<bool>,
    pub destination_cidr_block: String,
    pub next_hop_id: String,
}

/// One row of a route table as Describe shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    pub entry: RouteEntry,
    pub system: bool,
}

/// The router a route table belongs to: a VPC's vRouter or a VBR.
enum TableOwner<'a> {
    Vpc(&'a Vpc),
    Vbr(&'a Vbr),
}

impl TableOwner<'_> {
    fn router_id(&self) -> &str {
        match self {
            TableOwner::Vpc(v) => &v.vrouter_id,
            TableOwner::Vbr(v) => &v.vbr_id,
        }
    }

    fn cidr(&self) -> Option<Cidr> {
        match self {
            TableOwner::Vpc(v) => text::stored_cidr(&v.cidr_block),
            TableOwner::Vbr(_) => None,
        }
    }

    /// The VPC's system entry (its own block, next hop local).
    fn system_entry(&self) -> Option<RouteEntry> {
        match self {
            TableOwner::Vpc(v) => Some(RouteEntry {
                route_entry_id: String::new(),
                route_table_id: v.route_table_id.clone(),
                destination_cidr_block: v.cidr_block.clone(),
                next_hop_id: v.vpc_id.clone(),
                name: String::new(),
                creation_time: v.creation_time,
            }),
            TableOwner::Vbr(_) => None,
        }
    }
}

fn table_owner<'a>(state: &'a AccountState, field: &str, route_table_id: &str) -> DomainResult<TableOwner<'a>> {
    ids::parse(field, ids::ROUTE_TABLE, route_table_id)?;
    let suffix = ids::suffix(route_table_id);
    if let Ok(vpc) = state.vpc(field, &format!("{}-{suffix}", ids::VPC)) {
        return Ok(TableOwner::Vpc(vpc));
    }
    if let Ok(vbr) = state.vbr(field, &format!("{}-{suffix}", ids::VBR)) {
        return Ok(TableOwner::Vbr(vbr));
    }
    Err(DomainError::not_found(
        field,
        "InvalidRouteTableId.NotFound",
        format!("route table {route_table_id} does not exist in this account"),
    ))
}

/// An end whose routes changed: its report tells the other end, which needs them for the way back.
fn with_routes(mut ri: RouterInterface, state: &AccountState, ctx: &super::Context, extra: Vec<Change>) -> Vec<Change> {
    ri.version += 1;
    let mut changes = extra;
    changes.extend(propagate(state, ctx, ri));
    changes
}

impl Account {
    pub fn create_route_entry(&self, cmd: NewRouteEntry, client_token: &str) -> DomainResult<String> {
        self.execute("CreateRouteEntry", client_token, &cmd, |state, ctx| {
            let owner = table_owner(state, "route_table_id", &cmd.route_table_id)?;
            let destination = text::route_cidr("destination_cidr_block", &cmd.destination_cidr_block)?;
            let normalized = format!("{}/{}", destination.network, destination.prefix_len);
            match cmd.next_hop_type {
                None => return Err(DomainError::missing("next_hop_type")),
                Some(NextHopType::Local) => {
                    return Err(DomainError::invalid(
                        "next_hop_type",
                        "InvalidNextHopType",
                        "a custom route entry goes to a router interface: use ROUTER_INTERFACE",
                    ));
                }
                Some(NextHopType::RouterInterface) => {}
            }
            text::name("route_entry_name", &cmd.name)?;
            if let Some(own) = owner.cidr().filter(|own| own.covers(&destination)) {
                return Err(DomainError::invalid(
                    "destination_cidr_block",
                    "InvalidDestinationCidrBlock.InsideVpc",
                    format!(
                        "{normalized} is inside the VPC's own block {}/{}, which its system entry already routes",
                        own.network, own.prefix_len
                    ),
                ));
            }
            let duplicate = state.entries_of_table(&cmd.route_table_id).any(|e| e.destination_cidr_block == normalized)
                || owner.system_entry().is_some_and(|e| e.destination_cidr_block == normalized);
            if duplicate {
                return Err(DomainError::new(
                    ErrorKind::AlreadyExists,
                    "InvalidCIDRBlock.Duplicate",
                    format!("{} already has an entry for {normalized}", cmd.route_table_id),
                )
                .on("destination_cidr_block"));
            }
            let ri = state.router_interface("next_hop_id", &cmd.next_hop_id)?;
            if ri.router_id != owner.router_id() {
                return Err(DomainError::invalid(
                    "next_hop_id",
                    "IncorrectNextHop",
                    format!(
                        "{} is attached to router {}, not to {} of route table {}",
                        ri.router_interface_id,
                        ri.router_id,
                        owner.router_id(),
                        cmd.route_table_id
                    ),
                ));
            }
            let entry = RouteEntry {
                route_entry_id: ids::new_id(ids::ROUTE_ENTRY),
                route_table_id: cmd.route_table_id.clone(),
                destination_cidr_block: normalized.clone(),
                next_hop_id: ri.router_interface_id.clone(),
                name: cmd.name.clone(),
                creation_time: ctx.now,
            };
            let id = entry.route_entry_id.clone();
            let mut ri = ri.clone();
            ri.routes_via.push(normalized);
            ri.routes_via.sort();
            Ok((with_routes(ri, state, ctx, vec![Change::PutRouteEntry(entry)]), id))
        })
    }

    /// Deletes a custom entry, named by its id or by its table and destination.
    pub fn delete_route_entry(
        &self,
        route_entry_id: &str,
        route_table_id: &str,
        destination: &str,
        client_token: &str,
    ) -> DomainResult<()> {
        let request = (route_entry_id, route_table_id, destination);
        self.execute("DeleteRouteEntry", client_token, &request, |state, ctx| {
            let entry = if route_entry_id.is_empty() {
                let owner = table_owner(state, "route_table_id", route_table_id)?;
                let cidr = text::route_cidr("destination_cidr_block", destination)?;
                let normalized = format!("{}/{}", cidr.network, cidr.prefix_len);
                if owner.system_entry().is_some_and(|e| e.destination_cidr_block == normalized) {
                    return Err(DomainError::precondition(
                        "OperationDenied.SystemRouteEntry",
                        format!("{normalized} is the VPC's own block: a system entry cannot be deleted"),
                    ));
                }
                state.entries_of_table(route_table_id).find(|e| e.destination_cidr_block == normalized).ok_or_else(
                    || {
                        DomainError::not_found(
                            "destination_cidr_block",
                            "InvalidRouteEntry.NotFound",
                            format!("{route_table_id} has no custom entry for {normalized}"),
                        )
                    },
                )?
            } else {
                state.route_entry("route_entry_id", route_entry_id)?
            };
            let mut changes = vec![Change::DeleteRouteEntry(entry.route_entry_id.clone())];
            if let Ok(ri) = state.router_interface("next_hop_id", &entry.next_hop_id) {
                let mut ri = ri.clone();
                ri.routes_via.retain(|d| *d != entry.destination_cidr_block);
                changes = with_routes(ri, state, ctx, changes);
            }
            Ok((changes, ()))
        })
    }

    pub fn describe_route_entries(&self, filter: &RouteEntryFilter, page: PageRequest) -> DomainResult<Page<RouteRow>> {
        // Entries are stored normalized (10.0.0.0/8 for 10.0.0.0/08): match blocks, not spellings.
        let destination = if filter.destination_cidr_block.is_empty() {
            None
        } else {
            Some(text::route_cidr("destination_cidr_block", &filter.destination_cidr_block)?)
        };
        if !filter.next_hop_id.is_empty() {
            ids::parse("next_hop_id", ids::ROUTER_INTERFACE, &filter.next_hop_id)?;
        }
        self.read(|state, _| {
            let owner = table_owner(state, "route_table_id", &filter.route_table_id)?;
            let mut custom: Vec<&RouteEntry> = state.entries_of_table(&filter.route_table_id).collect();
            custom.sort_by(|a, b| (a.creation_time, &a.route_entry_id).cmp(&(b.creation_time, &b.route_entry_id)));
            let rows = owner
                .system_entry()
                .map(|entry| RouteRow { entry, system: true })
                .into_iter()
                .chain(custom.into_iter().map(|e| RouteRow { entry: e.clone(), system: false }))
                .filter(|r| filter.system.is_none_or(|s| s == r.system))
                .filter(|r| destination.is_none_or(|d| text::stored_cidr(&r.entry.destination_cidr_block) == Some(d)))
                .filter(|r| filter.next_hop_id.is_empty() || r.entry.next_hop_id == filter.next_hop_id)
                .collect();
            Ok(page.page(rows))
        })
    }

    /// Does traffic from `source_id` (a VPC or VBR of this account) reach `destination_ip` now?
    pub fn check_reachability(&self, source_id: &str, destination_ip: &str) -> DomainResult<Answer> {
        let destination = destination_ip.parse().map_err(|_| {
            if destination_ip.is_empty() {
                DomainError::missing("destination_ip")
            } else {
                DomainError::invalid(
                    "destination_ip",
                    "InvalidParameter",
                    format!("{destination_ip:?} is not an IPv4 address"),
                )
            }
        })?;
        self.read(|state, _| {
            let (route_table_id, cidr) = if source_id.starts_with("vbr-") {
                (state.vbr("source_id", source_id)?.route_table_id.clone(), None)
            } else {
                let vpc = state.vpc("source_id", source_id)?;
                (vpc.route_table_id.clone(), text::stored_cidr(&vpc.cidr_block))
            };
            let source = Source {
                id: source_id,
                route_table_id: &route_table_id,
                cidr,
                entries: state.entries_of_table(&route_table_id).collect(),
            };
            Ok(reachability::check(&source, destination, |id| state.router_interface("next_hop_id", id).ok()))
        })
    }
}
