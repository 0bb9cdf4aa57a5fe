//! The creation rules of the seed and the real API, as pure checks on a command. Checks that need the
//! account's resources (the router exists, the quota) live in `account`.

use serde::{Deserialize, Serialize};

use super::catalog::{self, NEGATIVE_SPEC};
use super::error::{DomainError, DomainResult};
use super::ids;
use super::model::{ChargeType, OppositeConfig, PricingCycle, Role, RouterType};
use super::text;

/// At most this many router interfaces per router.
pub const INTERFACES_PER_ROUTER: usize = 5;

/// CreateRouterInterface, with enums already decoded (`None` = unspecified).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRouterInterface {
    pub region_id: String,
    pub role: Option<Role>,
    pub router_type: Option<RouterType>,
    pub router_id: String,
    pub spec: String,
    pub opposite_region_id: String,
    pub opposite_router_id: String,
    pub opposite_router_type: Option<RouterType>,
    pub opposite_interface_id: String,
    pub opposite_interface_owner_id: String,
    pub access_point_id: String,
    pub opposite_access_point_id: String,
    pub name: String,
    pub description: String,
    pub charge_type: Option<ChargeType>,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: i32,
    pub auto_pay: bool,
    pub auto_renew: bool,
    pub health_check_source_ip: String,
    pub health_check_target_ip: String,
}

/// A router interface command that passed every rule that needs no account state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRouterInterface {
    pub region_id: String,
    pub role: Role,
    pub router_type: RouterType,
    pub router_id: String,
    pub access_point_id: String,
    pub spec: String,
    pub opposite: OppositeConfig,
    pub charge_type: ChargeType,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: u32,
}

fn router_prefix(router_type: RouterType) -> &'static str {
    match router_type {
        RouterType::VRouter => ids::VROUTER,
        RouterType::Vbr => ids::VBR,
    }
}

/// The router type an id's prefix implies.
fn router_type_of(id: &str) -> Option<RouterType> {
    if id.starts_with("vrt-") {
        Some(RouterType::VRouter)
    } else if id.starts_with("vbr-") {
        Some(RouterType::Vbr)
    } else {
        None
    }
}

pub fn check_new_router_interface(cmd: &NewRouterInterface) -> DomainResult<CheckedRouterInterface> {
    let region = catalog::region("region_id", &cmd.region_id)?;
    let role = cmd.role.ok_or_else(|| DomainError::missing("role"))?;
    let router_type = cmd.router_type.ok_or_else(|| DomainError::missing("router_type"))?;
    ids::parse("router_id", router_prefix(router_type), &cmd.router_id)?;
    if role == Role::AcceptingSide && router_type == RouterType::Vbr {
        return Err(DomainError::invalid(
            "router_type",
            "InvalidRouterType.AcceptingSide",
            "an acceptor end must be on a VPC (VRouter): a VBR can only be an initiator",
        ));
    }
    let access_point_id = match router_type {
        RouterType::Vbr => {
            catalog::access_point("access_point_id", region, &cmd.access_point_id)?;
            cmd.access_point_id.clone()
        }
        RouterType::VRouter if !cmd.access_point_id.is_empty() => {
            return Err(DomainError::invalid(
                "access_point_id",
                "InvalidParameter",
                "access_point_id applies only to a VBR; leave it empty for a VRouter",
            ));
        }
        RouterType::VRouter => String::new(),
    };
    let spec = match role {
        Role::InitiatingSide => catalog::spec("spec", &cmd.spec)?.to_owned(),
        Role::AcceptingSide if cmd.spec.is_empty() || cmd.spec == NEGATIVE_SPEC => NEGATIVE_SPEC.to_owned(),
        Role::AcceptingSide => {
            return Err(DomainError::invalid(
                "spec",
                "InvalidSpec",
                format!(
                    "an acceptor end's spec is {NEGATIVE_SPEC}: it uses the initiator's bandwidth (got {:?})",
                    cmd.spec
                ),
            ));
        }
    };
    let opposite = check_opposite(cmd, role)?;
    let charge_type = cmd.charge_type.unwrap_or(ChargeType::PostPaid);
    if role == Role::AcceptingSide && charge_type == ChargeType::PrePaid {
        return Err(DomainError::invalid(
            "instance_charge_type",
            "OperationUnsupported.PrePaidAcceptor",
            "an acceptor end can only be pay-as-you-go (POSTPAID); it is free of charge",
        ));
    }
    let period = check_period(charge_type, cmd.pricing_cycle, cmd.period, cmd.auto_renew)?;
    text::name("name", &cmd.name)?;
    text::description("description", &cmd.description)?;
    check_health_check(&cmd.health_check_source_ip, &cmd.health_check_target_ip)?;
    Ok(CheckedRouterInterface {
        region_id: region.id.to_owned(),
        role,
        router_type,
        router_id: cmd.router_id.clone(),
        access_point_id,
        spec,
        opposite,
        charge_type,
        pricing_cycle: cmd.pricing_cycle,
        period,
    })
}

fn check_opposite(cmd: &NewRouterInterface, role: Role) -> DomainResult<OppositeConfig> {
    let opposite_region = catalog::region("opposite_region_id", &cmd.opposite_region_id)?;
    let router_type = opposite_router_type(cmd.opposite_router_type, &cmd.opposite_router_id)?;
    if role == Role::InitiatingSide && router_type == Some(RouterType::Vbr) {
        return Err(DomainError::invalid(
            "opposite_router_type",
            "InvalidRouterType.AcceptingSide",
            "the opposite of an initiator is an acceptor, which must be on a VPC (VRouter)",
        ));
    }
    if !cmd.opposite_interface_id.is_empty() {
        ids::parse("opposite_interface_id", ids::ROUTER_INTERFACE, &cmd.opposite_interface_id)?;
    }
    if !cmd.opposite_interface_owner_id.is_empty() {
        ids::parse_account("opposite_interface_owner_id", &cmd.opposite_interface_owner_id)?;
    }
    if !cmd.opposite_access_point_id.is_empty() {
        catalog::access_point("opposite_access_point_id", opposite_region, &cmd.opposite_access_point_id)?;
    }
    Ok(OppositeConfig {
        region_id: opposite_region.id.to_owned(),
        router_id: cmd.opposite_router_id.clone(),
        router_type,
        interface_id: cmd.opposite_interface_id.clone(),
        owner_id: cmd.opposite_interface_owner_id.clone(),
        access_point_id: cmd.opposite_access_point_id.clone(),
    })
}

/// The opposite router type, inferred from the router id's prefix when not given; the two must agree.
pub fn opposite_router_type(given: Option<RouterType>, router_id: &str) -> DomainResult<Option<RouterType>> {
    if router_id.is_empty() {
        return Ok(given);
    }
    let router_type = given.or_else(|| router_type_of(router_id)).ok_or_else(|| {
        DomainError::invalid(
            "opposite_router_id",
            "InvalidParameter",
            format!("opposite_router_id {router_id:?} is neither a vRouter (vrt-…) nor a VBR (vbr-…)"),
        )
    })?;
    ids::parse("opposite_router_id", router_prefix(router_type), router_id)?;
    Ok(Some(router_type))
}

/// Subscription periods: 1–9 months or 1–3 years; none for pay-as-you-go.
pub fn check_period(
    charge: ChargeType,
    cycle: Option<PricingCycle>,
    period: i32,
    auto_renew: bool,
) -> DomainResult<u32> {
    match charge {
        ChargeType::PostPaid => {
            if cycle.is_some() || period != 0 || auto_renew {
                return Err(DomainError::invalid(
                    if period != 0 {
                        "period"
                    } else if cycle.is_some() {
                        "pricing_cycle"
                    } else {
                        "auto_renew"
                    },
                    "InvalidPeriod",
                    "pricing_cycle, period and auto_renew apply only to a PREPAID (subscription) end",
                ));
            }
            Ok(0)
        }
        ChargeType::PrePaid => {
            let cycle = cycle.ok_or_else(|| DomainError::missing("pricing_cycle"))?;
            let range = match cycle {
                PricingCycle::Month => 1..=9,
                PricingCycle::Year => 1..=3,
            };
            u32::try_from(period).ok().filter(|p| range.contains(p)).ok_or_else(|| {
                DomainError::invalid(
                    "period",
                    "InvalidPeriod",
                    format!(
                        "period must be {} to {} for a {cycle:?} pricing cycle (got {period})",
                        range.start(),
                        range.end()
                    ),
                )
            })
        }
    }
}

pub fn check_health_check(source: &str, target: &str) -> DomainResult<()> {
    text::ipv4("health_check_source_ip", source)?;
    text::ipv4("health_check_target_ip", target)?;
    if source.is_empty() != target.is_empty() {
        let missing = if source.is_empty() { "health_check_source_ip" } else { "health_check_target_ip" };
        return Err(DomainError::invalid(
            missing,
            "MissingParameter",
            "health_check_source_ip and health_check_target_ip go together",
        ));
    }
    Ok(())
}

/// The console's "Account type".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountType {
    Same,
    Different,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionType {
    VpcToVpc,
    VbrToVpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoutersToCreate {
    InitiatorAndAcceptor,
    InitiatorOnly,
    AcceptorOnly,
}

/// The console's Create Peering Connection form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringForm {
    pub account_type: Option<AccountType>,
    pub connection_type: Option<ConnectionType>,
    pub routers_to_create: Option<RoutersToCreate>,
    pub local_region_id: String,
    pub local_router_id: String,
    pub peer_region_id: String,
    pub peer_router_id: String,
    pub peer_account_id: String,
    pub peer_interface_id: String,
    pub bandwidth: String,
    pub charge_type: Option<ChargeType>,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: i32,
    pub auto_renew: bool,
    pub name: String,
    pub description: String,
}

/// The form's choices once the console's rules hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeeringChoice {
    pub account_type: AccountType,
    pub connection_type: ConnectionType,
    pub routers: RoutersToCreate,
}

/// The console's rules: which routers may be created for which account type and connection type.
pub fn check_peering_form(form: &PeeringForm, own_account: &str) -> DomainResult<PeeringChoice> {
    let account_type = form.account_type.ok_or_else(|| DomainError::missing("account_type"))?;
    let connection_type = form.connection_type.ok_or_else(|| DomainError::missing("connection_type"))?;
    let routers = form.routers_to_create.ok_or_else(|| DomainError::missing("routers_to_create"))?;
    match (account_type, routers) {
        (AccountType::Same, RoutersToCreate::InitiatorAndAcceptor)
        | (AccountType::Different, RoutersToCreate::InitiatorOnly | RoutersToCreate::AcceptorOnly) => {}
        (AccountType::Same, _) => {
            return Err(DomainError::invalid(
                "routers_to_create",
                "OperationUnsupported.RoutersToCreate",
                "within one account choose INITIATOR_AND_ACCEPTOR; INITIATOR_ONLY and ACCEPTOR_ONLY are for different accounts",
            ));
        }
        (AccountType::Different, RoutersToCreate::InitiatorAndAcceptor) => {
            return Err(DomainError::invalid(
                "routers_to_create",
                "OperationUnsupported.RoutersToCreate",
                "INITIATOR_AND_ACCEPTOR applies only to the same account; create each end in its own account",
            ));
        }
    }
    match account_type {
        AccountType::Same if !form.peer_account_id.is_empty() && form.peer_account_id != own_account => {
            return Err(DomainError::invalid(
                "peer_account_id",
                "InvalidParameter",
                format!(
                    "account_type SAME peers within account {own_account}; leave peer_account_id empty or set it to {own_account}"
                ),
            ));
        }
        AccountType::Different => {
            ids::parse_account("peer_account_id", &form.peer_account_id)?;
            if form.peer_account_id == own_account {
                return Err(DomainError::invalid(
                    "peer_account_id",
                    "InvalidParameter",
                    "account_type DIFFERENT needs the other account's id; for this account use SAME",
                ));
            }
        }
        AccountType::Same => {}
    }
    // VBR-to-VPC: the initiator is the VBR and the acceptor the VPC; VPC-to-VPC: both are VPCs.
    let initiator_is_local = routers != RoutersToCreate::AcceptorOnly;
    let (initiator_field, initiator_router, acceptor_field, acceptor_router) = if initiator_is_local {
        ("local_router_id", &form.local_router_id, "peer_router_id", &form.peer_router_id)
    } else {
        ("peer_router_id", &form.peer_router_id, "local_router_id", &form.local_router_id)
    };
    let initiator_prefix = match connection_type {
        ConnectionType::VpcToVpc => ids::VPC,
        ConnectionType::VbrToVpc => ids::VBR,
    };
    ids::parse(initiator_field, initiator_prefix, initiator_router).map_err(|e| {
        if initiator_router.is_empty() {
            e
        } else {
            DomainError::invalid(
                initiator_field,
                "InvalidParameter",
                format!("for {connection_type:?} the initiator router must be a {initiator_prefix}- id (got {initiator_router:?})"),
            )
        }
    })?;
    ids::parse(acceptor_field, ids::VPC, acceptor_router).map_err(|e| {
        if acceptor_router.is_empty() {
            e
        } else {
            DomainError::invalid(
                acceptor_field,
                "InvalidParameter",
                format!("the acceptor router is always a VPC: a vpc- id (got {acceptor_router:?})"),
            )
        }
    })?;
    if routers == RoutersToCreate::AcceptorOnly && form.charge_type == Some(ChargeType::PrePaid) {
        return Err(DomainError::invalid(
            "instance_charge_type",
            "OperationUnsupported.PrePaidAcceptor",
            "Acceptor Only is available for pay-as-you-go (POSTPAID) only; the acceptor end is free of charge",
        ));
    }
    if !form.peer_interface_id.is_empty() {
        ids::parse("peer_interface_id", ids::ROUTER_INTERFACE, &form.peer_interface_id)?;
    }
    Ok(PeeringChoice { account_type, connection_type, routers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initiator() -> NewRouterInterface {
        NewRouterInterface {
            region_id: "cn-hangzhou".into(),
            role: Some(Role::InitiatingSide),
            router_type: Some(RouterType::VRouter),
            router_id: "vrt-abc".into(),
            spec: "Large.1".into(),
            opposite_region_id: "cn-shanghai".into(),
            ..Default::default()
        }
    }

    fn reason(cmd: NewRouterInterface) -> (String, Option<String>) {
        let e = check_new_router_interface(&cmd).unwrap_err();
        (e.reason, e.field)
    }

    #[test]
    fn a_plain_initiator_passes() {
        let c = check_new_router_interface(&initiator()).unwrap();
        assert_eq!((c.spec.as_str(), c.charge_type, c.period), ("Large.1", ChargeType::PostPaid, 0));
    }

    #[test]
    fn creation_rules_have_their_codes() {
        let acceptor = NewRouterInterface { role: Some(Role::AcceptingSide), spec: String::new(), ..initiator() };
        let cases = [
            (NewRouterInterface { region_id: "mars".into(), ..initiator() }, "InvalidRegionId.NotFound", "region_id"),
            (NewRouterInterface { role: None, ..initiator() }, "MissingParameter", "role"),
            (NewRouterInterface { router_id: "vbr-x".into(), ..initiator() }, "InvalidParameter", "router_id"),
            (
                NewRouterInterface {
                    router_type: Some(RouterType::Vbr),
                    router_id: "vbr-x".into(),
                    access_point_id: "ap-cn-hangzhou-yh-B".into(),
                    ..acceptor.clone()
                },
                "InvalidRouterType.AcceptingSide",
                "router_type",
            ),
            (
                NewRouterInterface { router_type: Some(RouterType::Vbr), router_id: "vbr-x".into(), ..initiator() },
                "MissingParameter",
                "access_point_id",
            ),
            (
                NewRouterInterface {
                    router_type: Some(RouterType::Vbr),
                    router_id: "vbr-x".into(),
                    access_point_id: "ap-sg-singpost-A".into(),
                    ..initiator()
                },
                "InvalidAccessPointId.NotFound",
                "access_point_id",
            ),
            (NewRouterInterface { spec: "Huge.9".into(), ..initiator() }, "InvalidSpec", "spec"),
            (NewRouterInterface { spec: "Negative".into(), ..initiator() }, "InvalidSpec", "spec"),
            (NewRouterInterface { spec: "Large.1".into(), ..acceptor.clone() }, "InvalidSpec", "spec"),
            (
                NewRouterInterface {
                    charge_type: Some(ChargeType::PrePaid),
                    pricing_cycle: Some(PricingCycle::Month),
                    period: 1,
                    ..acceptor.clone()
                },
                "OperationUnsupported.PrePaidAcceptor",
                "instance_charge_type",
            ),
            (
                NewRouterInterface {
                    charge_type: Some(ChargeType::PrePaid),
                    pricing_cycle: Some(PricingCycle::Month),
                    period: 10,
                    ..initiator()
                },
                "InvalidPeriod",
                "period",
            ),
            (
                NewRouterInterface {
                    charge_type: Some(ChargeType::PrePaid),
                    pricing_cycle: Some(PricingCycle::Year),
                    period: 4,
                    ..initiator()
                },
                "InvalidPeriod",
                "period",
            ),
            (
                NewRouterInterface { charge_type: Some(ChargeType::PrePaid), period: 1, ..initiator() },
                "MissingParameter",
                "pricing_cycle",
            ),
            (NewRouterInterface { period: 3, ..initiator() }, "InvalidPeriod", "period"),
            (NewRouterInterface { name: "x".into(), ..initiator() }, "InvalidName.Malformed", "name"),
            (
                NewRouterInterface { description: "https://x.y".into(), ..initiator() },
                "InvalidDescription.Malformed",
                "description",
            ),
            (
                NewRouterInterface { opposite_router_id: "vbr-x".into(), ..initiator() },
                "InvalidRouterType.AcceptingSide",
                "opposite_router_type",
            ),
            (
                NewRouterInterface { opposite_interface_owner_id: "12".into(), ..initiator() },
                "InvalidParameter",
                "opposite_interface_owner_id",
            ),
            (
                NewRouterInterface { opposite_region_id: String::new(), ..initiator() },
                "MissingParameter",
                "opposite_region_id",
            ),
            (
                NewRouterInterface { health_check_source_ip: "10.0.0.1".into(), ..initiator() },
                "MissingParameter",
                "health_check_target_ip",
            ),
        ];
        for (cmd, code, field) in cases {
            assert_eq!(reason(cmd.clone()), (code.to_owned(), Some(field.to_owned())), "{cmd:?}");
        }
    }

    #[test]
    fn periods_per_cycle() {
        for p in 1..=9 {
            assert_eq!(check_period(ChargeType::PrePaid, Some(PricingCycle::Month), p, true), Ok(p as u32));
        }
        for p in 1..=3 {
            assert!(check_period(ChargeType::PrePaid, Some(PricingCycle::Year), p, false).is_ok());
        }
        for p in [0, -1, 4] {
            assert!(check_period(ChargeType::PrePaid, Some(PricingCycle::Year), p, false).is_err());
        }
    }

    fn form(account_type: AccountType, routers: RoutersToCreate) -> PeeringForm {
        PeeringForm {
            account_type: Some(account_type),
            connection_type: Some(ConnectionType::VpcToVpc),
            routers_to_create: Some(routers),
            local_router_id: "vpc-a".into(),
            peer_router_id: "vpc-b".into(),
            peer_account_id: if account_type == AccountType::Different {
                "1000000000000002".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    }

    #[test]
    fn console_rules() {
        let me = "1000000000000001";
        assert!(check_peering_form(&form(AccountType::Same, RoutersToCreate::InitiatorAndAcceptor), me).is_ok());
        assert!(check_peering_form(&form(AccountType::Different, RoutersToCreate::InitiatorOnly), me).is_ok());
        for (a, r) in [
            (AccountType::Same, RoutersToCreate::InitiatorOnly),
            (AccountType::Same, RoutersToCreate::AcceptorOnly),
            (AccountType::Different, RoutersToCreate::InitiatorAndAcceptor),
        ] {
            let e = check_peering_form(&form(a, r), me).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("routers_to_create"));
        }
        let vbr_wrong = PeeringForm {
            connection_type: Some(ConnectionType::VbrToVpc),
            ..form(AccountType::Different, RoutersToCreate::InitiatorOnly)
        };
        assert_eq!(check_peering_form(&vbr_wrong, me).unwrap_err().field.as_deref(), Some("local_router_id"));
        let prepaid_acceptor = PeeringForm {
            charge_type: Some(ChargeType::PrePaid),
            ..form(AccountType::Different, RoutersToCreate::AcceptorOnly)
        };
        assert_eq!(
            check_peering_form(&prepaid_acceptor, me).unwrap_err().reason,
            "OperationUnsupported.PrePaidAcceptor"
        );
        let self_peer =
            PeeringForm { peer_account_id: me.into(), ..form(AccountType::Different, RoutersToCreate::InitiatorOnly) };
        assert!(check_peering_form(&self_peer, me).is_err());
    }
}
