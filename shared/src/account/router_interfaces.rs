//! Router interfaces: create, configure, connect, suspend, activate, delete, describe.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Account, AccountState, Context, DomainResult, Effect, Page, PageRequest};
use crate::domain::billing;
use crate::domain::lifecycle::{self, ConnectRequest};
use crate::domain::model::{BusinessStatus, Role, RouterInterface, RouterType, Status};
use crate::domain::rules::{self, CheckedRouterInterface, INTERFACES_PER_ROUTER, NewRouterInterface};
use crate::domain::{DomainError, catalog, ids, text};
use crate::store::Change;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyAttributes {
    pub router_interface_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub opposite_interface_id: Option<String>,
    pub opposite_router_id: Option<String>,
    pub opposite_router_type: Option<RouterType>,
    pub opposite_interface_owner_id: Option<String>,
    pub health_check_source_ip: Option<String>,
    pub health_check_target_ip: Option<String>,
    pub delete_health_check: bool,
}

impl ModifyAttributes {
    fn touches_opposite(&self) -> bool {
        self.opposite_interface_id.is_some()
            || self.opposite_router_id.is_some()
            || self.opposite_router_type.is_some()
            || self.opposite_interface_owner_id.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterInterfaceFilter {
    pub ids: Vec<String>,
    pub status: Option<Status>,
    pub role: Option<Role>,
    pub router_id: String,
    pub region_id: String,
}

/// Makes a new end from a checked command, after the checks that need the account: the router exists
/// here, in that region (and at that access point), and has room for another interface. `pending` are
/// ends created by the same call.
pub(super) fn new_router_interface(
    state: &AccountState,
    ctx: &Context,
    c: CheckedRouterInterface,
    cmd: &NewRouterInterface,
    pending: &[RouterInterface],
) -> DomainResult<RouterInterface> {
    let router_cidr = match c.router_type {
        RouterType::VRouter => state.vpc_of_router("router_id", &c.router_id)?.cidr_block.clone(),
        RouterType::Vbr => String::new(),
    };
    let router_region = match c.router_type {
        RouterType::VRouter => state.vpc_of_router("router_id", &c.router_id)?.region_id.as_str(),
        RouterType::Vbr => {
            let vbr = state.vbr("router_id", &c.router_id)?;
            if vbr.access_point_id != c.access_point_id {
                return Err(DomainError::invalid(
                    "access_point_id",
                    "InvalidAccessPointId.Mismatch",
                    format!("VBR {} is at access point {}, not {}", vbr.vbr_id, vbr.access_point_id, c.access_point_id),
                ));
            }
            vbr.region_id.as_str()
        }
    };
    if router_region != c.region_id {
        return Err(DomainError::invalid(
            "region_id",
            "InvalidRegionId.Mismatch",
            format!("router {} is in {router_region}, not in {}", c.router_id, c.region_id),
        ));
    }
    let on_router = state.interfaces_on_router(&c.router_id).count()
        + pending.iter().filter(|ri| ri.router_id == c.router_id).count();
    if on_router >= INTERFACES_PER_ROUTER {
        return Err(DomainError::exhausted(
            "QuotaExceeded",
            format!(
                "router {} already has {INTERFACES_PER_ROUTER} router interfaces, the most a router can have",
                c.router_id
            ),
        ));
    }
    let end_time = match c.pricing_cycle {
        Some(rules_cycle) => {
            let months = match rules_cycle {
                crate::domain::model::PricingCycle::Month => c.period,
                crate::domain::model::PricingCycle::Year => c.period * 12,
            };
            ctx.now.checked_add_months(chrono::Months::new(months))
        }
        None => None,
    };
    Ok(RouterInterface {
        router_interface_id: ids::new_id(ids::ROUTER_INTERFACE),
        owner_id: ctx.account_id.clone(),
        name: cmd.name.clone(),
        description: cmd.description.clone(),
        region_id: c.region_id,
        role: c.role,
        router_type: c.router_type,
        router_id: c.router_id,
        access_point_id: c.access_point_id,
        spec: c.spec,
        status: Status::Idle,
        business_status: BusinessStatus::Normal,
        opposite: c.opposite,
        charge_type: c.charge_type,
        pricing_cycle: c.pricing_cycle,
        period: c.period,
        auto_pay: cmd.auto_pay,
        auto_renew: cmd.auto_renew,
        health_check_source_ip: cmd.health_check_source_ip.clone(),
        health_check_target_ip: cmd.health_check_target_ip.clone(),
        creation_time: ctx.now,
        connected_time: None,
        end_time,
        last_error: None,
        last_opposite_status: None,
        link: None,
        version: 1,
        router_cidr,
        routes_via: Vec::new(),
        billing: crate::domain::billing::EndBilling::default(),
    })
}

/// Connects `initiator` to an acceptor end in this account. A refusal is part of the answer: the
/// initiator returns to Idle with `last_error`, and that is stored too.
/// `acceptor` is the end the initiator names, as found in this account.
pub(super) fn connect_locally(
    state: &AccountState,
    ctx: &Context,
    mut initiator: RouterInterface,
    acceptor: DomainResult<RouterInterface>,
) -> DomainResult<Effect<Result<Status, DomainError>>> {
    lifecycle::begin_connect(&mut initiator)?;
    let admitted = acceptor.and_then(|mut acceptor| {
        check_only_connection(state, &acceptor, &initiator.router_id)?;
        let request = ConnectRequest { initiator: initiator.report(), names: initiator.opposite.clone() };
        lifecycle::admit(&mut acceptor, &request, ctx.now)?;
        Ok(acceptor)
    });
    match admitted {
        Ok(mut acceptor) => {
            lifecycle::exchange(&mut initiator, &mut acceptor, ctx.now, |_, _| {});
            let status = initiator.status;
            Ok((
                vec![Change::PutRouterInterface(Arc::new(initiator)), Change::PutRouterInterface(Arc::new(acceptor))],
                Ok(status),
            ))
        }
        Err(refusal) => {
            lifecycle::fail_connect(&mut initiator, &refusal);
            Ok((vec![Change::PutRouterInterface(Arc::new(initiator))], Err(refusal)))
        }
    }
}

/// At most one connection between the same two routers.
pub(super) fn check_only_connection(
    state: &AccountState,
    end: &RouterInterface,
    other_router: &str,
) -> DomainResult<()> {
    let existing = state.interfaces_on_router(&end.router_id).find(|ri| {
        ri.router_interface_id != end.router_interface_id
            && ri.link.as_ref().is_some_and(|l| l.opposite.router_id == other_router)
    });
    match existing {
        Some(ri) => Err(DomainError::precondition(
            "Forbidden.OnlyOneConnection",
            format!(
                "routers {} and {other_router} are already connected through {}; only one connection is allowed between two routers",
                end.router_id, ri.router_interface_id
            ),
        )),
        None => Ok(()),
    }
}

/// The other end of `end`'s connection, when it lives in this account.
fn local_opposite(state: &AccountState, end: &RouterInterface) -> Option<RouterInterface> {
    let link = end.link.as_ref()?;
    if link.opposite.owner_id != end.owner_id {
        return None;
    }
    state.router_interface("opposite_interface_id", &link.opposite.interface_id).ok().cloned()
}

/// Applies a change of `end` and lets the other end (in this account) follow.
pub(super) fn propagate(state: &AccountState, ctx: &Context, mut end: RouterInterface) -> Vec<Change> {
    let mut changes = Vec::with_capacity(2);
    if let Some(mut opposite) = local_opposite(state, &end) {
        lifecycle::exchange(&mut end, &mut opposite, ctx.now, |_, _| {});
        changes.push(Change::PutRouterInterface(Arc::new(opposite)));
    }
    changes.push(Change::PutRouterInterface(Arc::new(end)));
    changes
}

impl Account {
    pub fn create_router_interface(&self, cmd: NewRouterInterface, client_token: &str) -> DomainResult<String> {
        self.execute("CreateRouterInterface", client_token, &cmd, |state, ctx| {
            let checked = rules::check_new_router_interface(&cmd)?;
            let ri = new_router_interface(state, ctx, checked, &cmd, &[])?;
            let id = ri.router_interface_id.clone();
            let mut changes = vec![Change::PutRouterInterface(Arc::new(ri))];
            self.bill_new_ends(state, ctx, &mut changes)?;
            Ok((changes, id))
        })
    }

    pub fn modify_router_interface_attribute(&self, cmd: ModifyAttributes, client_token: &str) -> DomainResult<()> {
        self.execute("ModifyRouterInterfaceAttribute", client_token, &cmd, |state, _| {
            let mut ri = state.router_interface("router_interface_id", &cmd.router_interface_id)?.clone();
            if let Some(name) = &cmd.name {
                text::name("name", name)?;
                ri.name.clone_from(name);
            }
            if let Some(description) = &cmd.description {
                text::description("description", description)?;
                ri.description.clone_from(description);
            }
            if cmd.touches_opposite() {
                if ri.status != Status::Idle {
                    return Err(DomainError::precondition(
                        "IncorrectStatus",
                        format!(
                            "{} is {:?}; its opposite fields can be changed only when its status is Idle",
                            ri.router_interface_id, ri.status
                        ),
                    ));
                }
                modify_opposite(&mut ri, &cmd)?;
            }
            if cmd.delete_health_check {
                ri.health_check_source_ip.clear();
                ri.health_check_target_ip.clear();
            }
            if let Some(ip) = &cmd.health_check_source_ip {
                ri.health_check_source_ip.clone_from(ip);
            }
            if let Some(ip) = &cmd.health_check_target_ip {
                ri.health_check_target_ip.clone_from(ip);
            }
            rules::check_health_check(&ri.health_check_source_ip, &ri.health_check_target_ip)?;
            ri.version += 1;
            Ok((vec![Change::PutRouterInterface(Arc::new(ri))], ()))
        })
    }

    /// Connects an initiator end. With the acceptor end in this account the connection is made at once;
    /// with it in another account the end is Connecting until the peer link hears back.
    pub fn connect_router_interface(&self, id: &str, client_token: &str) -> DomainResult<Status> {
        self.execute("ConnectRouterInterface", client_token, &id, |state, ctx| {
            let mut initiator = state.router_interface("router_interface_id", id)?.clone();
            // A locked end says so (below); any other end of an overdue account may not connect either.
            if !billing::is_locked(&initiator) {
                super::billing::check_not_overdue(state)?;
            }
            let owner = initiator.opposite.owner_id.clone();
            if owner.is_empty() || owner == ctx.account_id {
                let acceptor =
                    state.router_interface("opposite_interface_id", &initiator.opposite.interface_id).cloned();
                return connect_locally(state, ctx, initiator, acceptor);
            }
            self.check_peer(&owner)?;
            lifecycle::begin_connect(&mut initiator)?;
            Ok((vec![Change::PutRouterInterface(Arc::new(initiator))], Ok(Status::Connecting)))
        })?
    }

    fn check_peer(&self, owner: &str) -> DomainResult<()> {
        if self.has_peer(owner) {
            Ok(())
        } else {
            Err(DomainError::new_unavailable(format!(
                "account {owner} is not reachable from this service: no peer link is configured for it \
                 (start initiator-svc with --peer {owner}=http://HOST:PORT)"
            )))
        }
    }

    pub fn deactivate_router_interface(&self, id: &str, client_token: &str) -> DomainResult<Status> {
        self.change_connection("DeactivateRouterInterface", id, client_token, lifecycle::suspend)
    }

    pub fn activate_router_interface(&self, id: &str, client_token: &str) -> DomainResult<Status> {
        self.change_connection("ActivateRouterInterface", id, client_token, lifecycle::activate)
    }

    fn change_connection(
        &self,
        operation: &str,
        id: &str,
        client_token: &str,
        transition: fn(&mut RouterInterface) -> DomainResult<()>,
    ) -> DomainResult<Status> {
        self.execute(operation, client_token, &id, |state, ctx| {
            let mut ri = state.router_interface("router_interface_id", id)?.clone();
            transition(&mut ri)?;
            // The other end in this account follows at once; in another account the peer link tells it.
            let changes = propagate(state, ctx, ri);
            let status = state_of(&changes, id).map_or(Status::Idle, |ri| ri.status);
            Ok((changes, status))
        })
    }

    pub fn delete_router_interface(&self, id: &str, client_token: &str) -> DomainResult<()> {
        self.execute("DeleteRouterInterface", client_token, &id, |state, ctx| {
            let ri = state.router_interface("router_interface_id", id)?;
            let routes: Vec<&str> = state.entries_via(id).map(|e| e.route_entry_id.as_str()).collect();
            if !routes.is_empty() {
                return Err(DomainError::precondition(
                    "DependencyViolation.RouterInterfaceReferedByRouteEntry",
                    format!("route entries {} point at {id}; delete them first", routes.join(", ")),
                ));
            }
            lifecycle::check_delete(ri)?;
            let mut changes = vec![Change::DeleteRouterInterface(id.to_owned())];
            self.bill_deleted_end(state, ctx, ri, &mut changes);
            // The other end in this account follows at once; in another account the peer link tells it.
            if let Some(mut opposite) = local_opposite(state, ri) {
                lifecycle::apply_report(&mut opposite, &lifecycle::deletion_report(ri), ctx.now);
                changes.push(Change::PutRouterInterface(Arc::new(opposite)));
            }
            Ok((changes, ()))
        })
    }

    pub fn describe_router_interface(&self, id: &str) -> DomainResult<RouterInterface> {
        self.read(|state, _| state.router_interface("router_interface_id", id).cloned())
    }

    pub fn describe_router_interfaces(
        &self,
        filter: &RouterInterfaceFilter,
        page: PageRequest,
    ) -> DomainResult<Page<RouterInterface>> {
        ids::parse_list("router_interface_ids", ids::ROUTER_INTERFACE, &filter.ids)?;
        if !filter.region_id.is_empty() {
            catalog::region("region_id", &filter.region_id)?;
        }
        if !filter.router_id.is_empty() {
            let prefix = if filter.router_id.starts_with("vbr-") { ids::VBR } else { ids::VROUTER };
            ids::parse("router_id", prefix, &filter.router_id)?;
        }
        Ok(self.read(|state, _| {
            if *filter == RouterInterfaceFilter::default() {
                // Everything: the order index gives the page without looking at the rest.
                page.page_of_all(state.router_interfaces_from(page.skip()), state.router_interface_count())
            } else {
                page.page_of(matching(state, filter))
            }
        }))
    }

    /// How many ends are in each status.
    pub fn router_interfaces_by_status(&self) -> std::collections::HashMap<Status, usize> {
        self.read(|state, _| state.router_interface_status_counts().clone())
    }

    /// Every end that passes `filter`, in creation order.
    pub fn router_interfaces_matching(&self, filter: &RouterInterfaceFilter) -> DomainResult<Vec<RouterInterface>> {
        Ok(self.read(|state, _| matching(state, filter).cloned().collect()))
    }
}

/// The ends that pass `filter`, in creation order.
fn matching<'a>(
    state: &'a AccountState,
    filter: &'a RouterInterfaceFilter,
) -> impl Iterator<Item = &'a RouterInterface> + 'a {
    state
        .router_interfaces_in_order()
        .filter(|ri| filter.ids.is_empty() || filter.ids.contains(&ri.router_interface_id))
        .filter(|ri| filter.status.is_none_or(|s| ri.status == s))
        .filter(|ri| filter.role.is_none_or(|r| ri.role == r))
        .filter(|ri| filter.router_id.is_empty() || ri.router_id == filter.router_id)
        .filter(|ri| filter.region_id.is_empty() || ri.region_id == filter.region_id)
}

fn state_of<'a>(changes: &'a [Change], id: &str) -> Option<&'a RouterInterface> {
    changes.iter().find_map(|c| match c {
        Change::PutRouterInterface(ri) if ri.router_interface_id == id => Some(ri.as_ref()),
        _ => None,
    })
}

fn modify_opposite(ri: &mut RouterInterface, cmd: &ModifyAttributes) -> DomainResult<()> {
    if let Some(id) = &cmd.opposite_interface_id {
        if !id.is_empty() {
            ids::parse("opposite_interface_id", ids::ROUTER_INTERFACE, id)?;
        }
        ri.opposite.interface_id.clone_from(id);
    }
    if let Some(owner) = &cmd.opposite_interface_owner_id {
        if !owner.is_empty() {
            ids::parse_account("opposite_interface_owner_id", owner)?;
        }
        ri.opposite.owner_id.clone_from(owner);
    }
    if let Some(router) = &cmd.opposite_router_id {
        ri.opposite.router_id.clone_from(router);
        ri.opposite.router_type = None;
    }
    let given_type = cmd.opposite_router_type.or(ri.opposite.router_type);
    ri.opposite.router_type = rules::opposite_router_type(given_type, &ri.opposite.router_id)?;
    if ri.role == Role::InitiatingSide && ri.opposite.router_type == Some(RouterType::Vbr) {
        return Err(DomainError::invalid(
            "opposite_router_type",
            "InvalidRouterType.AcceptingSide",
            "the opposite of an initiator is an acceptor, which must be on a VPC (VRouter)",
        ));
    }
    Ok(())
}
