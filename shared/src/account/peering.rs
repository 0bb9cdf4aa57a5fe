//! The console's Create Peering Connection form, built on the same creation path as
//! CreateRouterInterface and, for "Initiator and Acceptor", the same connect as ConnectRouterInterface.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::router_interfaces::{connect_locally, new_router_interface};
use super::{Account, AccountState, Context, DomainResult};
use crate::domain::model::{ChargeType, Role, RouterInterface, RouterType};
use crate::domain::rules::{self, AccountType, NewRouterInterface, PeeringForm, RoutersToCreate};
use crate::domain::{DomainError, ids};
use crate::store::Change;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringCreated {
    pub initiator_interface_id: String,
    pub acceptor_interface_id: String,
}

/// A router named in the form, resolved to the router a router interface attaches to.
struct Router {
    id: String,
    router_type: RouterType,
    access_point_id: String,
}

/// A local VPC's vRouter, or a local VBR.
fn local_router(state: &AccountState, field: &str, id: &str) -> DomainResult<Router> {
    if id.starts_with("vbr-") {
        let vbr = state.vbr(field, id)?;
        Ok(Router {
            id: vbr.vbr_id.clone(),
            router_type: RouterType::Vbr,
            access_point_id: vbr.access_point_id.clone(),
        })
    } else {
        let vpc = state.vpc(field, id)?;
        Ok(Router { id: vpc.vrouter_id.clone(), router_type: RouterType::VRouter, access_point_id: String::new() })
    }
}

/// A router of another account, from its VPC or VBR id: a VPC's vRouter shares the VPC id's suffix.
fn remote_router(id: &str) -> Router {
    if id.starts_with("vbr-") {
        Router { id: id.to_owned(), router_type: RouterType::Vbr, access_point_id: String::new() }
    } else {
        Router {
            id: format!("{}-{}", ids::VROUTER, ids::suffix(id)),
            router_type: RouterType::VRouter,
            access_point_id: String::new(),
        }
    }
}

fn end_command(
    form: &PeeringForm,
    role: Role,
    local: &Router,
    region: &str,
    opposite: &Router,
    opposite_region: &str,
) -> NewRouterInterface {
    let initiator = role == Role::InitiatingSide;
    NewRouterInterface {
        region_id: region.to_owned(),
        role: Some(role),
        router_type: Some(local.router_type),
        router_id: local.id.clone(),
        spec: if initiator { form.bandwidth.clone() } else { String::new() },
        opposite_region_id: opposite_region.to_owned(),
        opposite_router_id: opposite.id.clone(),
        opposite_router_type: Some(opposite.router_type),
        opposite_access_point_id: opposite.access_point_id.clone(),
        access_point_id: local.access_point_id.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        charge_type: if initiator { form.charge_type } else { Some(ChargeType::PostPaid) },
        pricing_cycle: if initiator { form.pricing_cycle } else { None },
        period: if initiator { form.period } else { 0 },
        auto_renew: initiator && form.auto_renew,
        ..Default::default()
    }
}

/// Creates one end through the CreateRouterInterface path; errors name the form's fields.
/// `form_local` says whether this end is the form's local side.
fn create_end(
    state: &AccountState,
    ctx: &Context,
    cmd: &NewRouterInterface,
    form_local: bool,
    pending: &[RouterInterface],
) -> DomainResult<RouterInterface> {
    rules::check_new_router_interface(cmd)
        .and_then(|checked| new_router_interface(state, ctx, checked, cmd, pending))
        .map_err(|mut e| {
            e.field = e.field.map(|f| form_field(&f, form_local));
            e
        })
}

fn form_field(field: &str, form_local: bool) -> String {
    let (own, other) = if form_local { ("local", "peer") } else { ("peer", "local") };
    match field {
        "spec" => "bandwidth".to_owned(),
        "region_id" => format!("{own}_region_id"),
        "router_id" | "router_type" | "access_point_id" => format!("{own}_router_id"),
        "opposite_region_id" => format!("{other}_region_id"),
        "opposite_router_id" | "opposite_router_type" | "opposite_access_point_id" => {
            format!("{other}_router_id")
        }
        "opposite_interface_id" => "peer_interface_id".to_owned(),
        "opposite_interface_owner_id" => "peer_account_id".to_owned(),
        same => same.to_owned(),
    }
}

impl Account {
    pub fn create_peering_connection(&self, form: PeeringForm, client_token: &str) -> DomainResult<PeeringCreated> {
        self.execute("CreatePeeringConnection", client_token, &form, |state, ctx| {
            let (mut changes, created) = create_peering(state, ctx, &form)?;
            self.bill_new_ends(state, ctx, &mut changes)?;
            Ok((changes, created))
        })
    }
}

fn create_peering(
    state: &AccountState,
    ctx: &Context,
    form: &PeeringForm,
) -> DomainResult<super::Effect<PeeringCreated>> {
    let choice = rules::check_peering_form(form, &ctx.account_id)?;
    match (choice.account_type, choice.routers) {
        (AccountType::Same, _) => both_ends(state, ctx, form),
        // Different accounts: one end here, naming the other account's router (and end, if known).
        (_, routers) => {
            let role =
                if routers == RoutersToCreate::AcceptorOnly { Role::AcceptingSide } else { Role::InitiatingSide };
            let local = local_router(state, "local_router_id", &form.local_router_id)?;
            let peer = remote_router(&form.peer_router_id);
            let mut cmd = end_command(form, role, &local, &form.local_region_id, &peer, &form.peer_region_id);
            cmd.opposite_interface_id.clone_from(&form.peer_interface_id);
            cmd.opposite_interface_owner_id.clone_from(&form.peer_account_id);
            let end = create_end(state, ctx, &cmd, true, &[])?;
            let id = end.router_interface_id.clone();
            let created = match role {
                Role::AcceptingSide => PeeringCreated { acceptor_interface_id: id, ..Default::default() },
                Role::InitiatingSide => PeeringCreated { initiator_interface_id: id, ..Default::default() },
            };
            Ok((vec![Change::PutRouterInterface(Arc::new(end))], created))
        }
    }
}

/// "Initiator and Acceptor": both ends in this account, connected at once.
fn both_ends(state: &AccountState, ctx: &Context, form: &PeeringForm) -> DomainResult<super::Effect<PeeringCreated>> {
    let local = local_router(state, "local_router_id", &form.local_router_id)?;
    let peer = local_router(state, "peer_router_id", &form.peer_router_id)?;
    if local.id == peer.id {
        return Err(DomainError::invalid(
            "peer_router_id",
            "IncorrectOppositeInterfaceInfo",
            "Cannot connect on the same router",
        ));
    }
    let initiator_cmd =
        end_command(form, Role::InitiatingSide, &local, &form.local_region_id, &peer, &form.peer_region_id);
    let mut initiator = create_end(state, ctx, &initiator_cmd, true, &[])?;
    let acceptor_cmd =
        end_command(form, Role::AcceptingSide, &peer, &form.peer_region_id, &local, &form.local_region_id);
    let mut acceptor = create_end(state, ctx, &acceptor_cmd, false, std::slice::from_ref(&initiator))?;
    initiator.opposite.interface_id.clone_from(&acceptor.router_interface_id);
    initiator.opposite.owner_id.clone_from(&ctx.account_id);
    acceptor.opposite.interface_id.clone_from(&initiator.router_interface_id);
    acceptor.opposite.owner_id.clone_from(&ctx.account_id);
    let created = PeeringCreated {
        initiator_interface_id: initiator.router_interface_id.clone(),
        acceptor_interface_id: acceptor.router_interface_id.clone(),
    };
    // Connect exactly as ConnectRouterInterface would.
    let (changes, connected) = connect_locally(state, ctx, initiator, Ok(acceptor))?;
    connected?;
    Ok((changes, created))
}
