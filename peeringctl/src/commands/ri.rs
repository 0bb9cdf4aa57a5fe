//! `peeringctl ri`: router interfaces, the two ends of a peering connection: create them, point them at
//! each other, connect, suspend, activate, change the bandwidth, renew, delete, describe.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use shared::api::v1 as pb;

use crate::client::{Api, ClientArgs, Failure, all_pages, describe};
use crate::output::{self, Format, Record};
use crate::wait;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    Initiator,
    Acceptor,
}

impl Role {
    fn to_pb(self) -> pb::Role {
        match self {
            Role::Initiator => pb::Role::InitiatingSide,
            Role::Acceptor => pb::Role::AcceptingSide,
        }
    }
}

/// Parses a value of one of the API's enums by its name without the enum's prefix, in any case:
/// `--cycle month` is PRICING_CYCLE_MONTH, `--status activated` STATUS_ACTIVATED.
fn api_enum<E: PartialEq + Default + 'static>(
    prefix: &'static str,
    by_name: fn(&str) -> Option<E>,
) -> impl Fn(&str) -> Result<E, String> + Clone + Send + Sync + 'static {
    move |s| {
        by_name(&format!("{prefix}{}", s.to_uppercase().replace('-', "_")))
            .filter(|value| *value != E::default())
            .ok_or_else(|| format!("{s:?} is not one of the values listed in --help"))
    }
}

/// How a change that the other end must confirm is followed.
#[derive(Debug, Args)]
pub struct Waiting {
    /// Answer at once, without waiting for the other end to confirm.
    #[arg(long)]
    no_wait: bool,
    /// Seconds to wait for the other end before giving up.
    #[arg(long, default_value = "30", value_parser = wait::parse_timeout)]
    timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Create one end (CreateRouterInterface).
    Create(Box<Create>),
    /// Set an end's name, description, health check, or (while Idle) the end it connects to.
    Modify {
        /// The router interface (ri-…).
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The other end's router interface (ri-…).
        #[arg(long)]
        opposite_interface: Option<String>,
        /// The other end's router: vrt-…, vbr-…, or a VPC id (its vRouter is meant).
        #[arg(long)]
        opposite_router: Option<String>,
        /// vrouter or vbr; inferred from --opposite-router when not given.
        #[arg(long, value_parser = api_enum("ROUTER_TYPE_", pb::RouterType::from_str_name))]
        opposite_router_type: Option<pb::RouterType>,
        /// The account that owns the other end (16 digits).
        #[arg(long)]
        opposite_owner: Option<String>,
        #[arg(long)]
        health_check_source_ip: Option<String>,
        #[arg(long)]
        health_check_target_ip: Option<String>,
        #[arg(long)]
        delete_health_check: bool,
    },
    /// Connect an Idle initiator end to its acceptor; waits until it is Activated (the acceptor confirmed).
    Connect {
        /// The router interface (ri-…).
        id: String,
        #[command(flatten)]
        waiting: Waiting,
    },
    /// Suspend an Activated end (DeactivateRouterInterface); waits until it is Suspended.
    Suspend {
        /// The router interface (ri-…).
        id: String,
        #[command(flatten)]
        waiting: Waiting,
    },
    /// Lift your own suspension of an end; waits until it is Activated again.
    Activate {
        /// The router interface (ri-…).
        id: String,
        #[command(flatten)]
        waiting: Waiting,
    },
    /// Change an Activated initiator's bandwidth now (ModifyRouterInterfaceSpec; a subscription only up).
    Upgrade {
        /// The router interface (ri-…).
        id: String,
        /// Mini.2 … Xlarge.1.
        #[arg(long)]
        spec: String,
    },
    /// Pay for more time of a subscription (PrePaid) initiator end (RenewInstance).
    Renew {
        /// The router interface (ri-…).
        id: String,
        /// 1–9 months or 1–3 years.
        #[arg(long, default_value_t = 1)]
        period: i32,
        /// month or year.
        #[arg(long, default_value = "month", value_parser = api_enum("PRICING_CYCLE_", pb::PricingCycle::from_str_name))]
        cycle: pb::PricingCycle,
        /// The bandwidth from the next billing cycle on ("Renew and Upgrade/Downgrade").
        #[arg(long)]
        spec: Option<String>,
    },
    /// Delete an Idle or Suspended end that no route entry points at.
    Delete {
        /// The router interface (ri-…).
        id: String,
    },
    /// One end with every field, or a list of the account's ends.
    Describe {
        /// The end to show; without it, every end that matches the filters.
        id: Option<String>,
        /// Only ends in this status: idle, connecting, accepting, activated, suspending, suspended,
        /// activating, modifying, deleting.
        #[arg(long, conflicts_with = "id", value_parser = api_enum("STATUS_", pb::Status::from_str_name))]
        status: Option<pb::Status>,
        #[arg(long, conflicts_with = "id", value_enum)]
        role: Option<Role>,
        /// Only ends on this router (vrt-… or vbr-…).
        #[arg(long, conflicts_with = "id")]
        router: Option<String>,
        #[arg(long, conflicts_with = "id")]
        region: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct Create {
    /// Which end: the initiator connects, the acceptor waits.
    #[arg(long, value_enum)]
    role: Role,
    /// The end's region, e.g. cn-hangzhou.
    #[arg(long)]
    region: String,
    /// Its router: vrt-…, vbr-…, or a VPC id (its vRouter is meant).
    #[arg(long)]
    router: String,
    /// vrouter or vbr; inferred from --router when not given.
    #[arg(long, value_parser = api_enum("ROUTER_TYPE_", pb::RouterType::from_str_name))]
    router_type: Option<pb::RouterType>,
    /// The bandwidth, Mini.2 … Xlarge.1; an acceptor's is Negative (leave it out).
    #[arg(long)]
    spec: Option<String>,
    /// The VBR's access point (a VBR end only).
    #[arg(long)]
    access_point: Option<String>,
    #[arg(long)]
    opposite_region: Option<String>,
    /// The other end's router: vrt-…, vbr-…, or a VPC id.
    #[arg(long)]
    opposite_router: Option<String>,
    /// vrouter or vbr; inferred from --opposite-router when not given.
    #[arg(long, value_parser = api_enum("ROUTER_TYPE_", pb::RouterType::from_str_name))]
    opposite_router_type: Option<pb::RouterType>,
    /// The other end's router interface (ri-…), when it exists.
    #[arg(long)]
    opposite_interface: Option<String>,
    /// The account that owns the other end (16 digits).
    #[arg(long)]
    opposite_owner: Option<String>,
    #[arg(long)]
    opposite_access_point: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// postpaid (pay-as-you-go, the default) or prepaid (a subscription).
    #[arg(long, value_parser = api_enum("INSTANCE_CHARGE_TYPE_", pb::InstanceChargeType::from_str_name))]
    charge_type: Option<pb::InstanceChargeType>,
    /// A subscription's pricing cycle: month or year.
    #[arg(long, value_parser = api_enum("PRICING_CYCLE_", pb::PricingCycle::from_str_name))]
    cycle: Option<pb::PricingCycle>,
    /// A subscription's period: 1–9 months or 1–3 years.
    #[arg(long)]
    period: Option<i32>,
    #[arg(long)]
    auto_pay: bool,
    #[arg(long)]
    auto_renew: bool,
    #[arg(long)]
    health_check_source_ip: Option<String>,
    #[arg(long)]
    health_check_target_ip: Option<String>,
}

/// The columns of an end in a list.
pub const COLUMNS: [&str; 8] =
    ["id", "role", "status", "spec", "router", "opposite", "opposite_status", "business_status"];

/// Every field of an end; a list shows [`COLUMNS`].
pub fn record(ri: &pb::RouterInterface) -> Record {
    Record::new()
        .with("id", ri.router_interface_id.clone())
        .with("role", output::role(ri.role()))
        .with("status", output::label(ri.status()))
        .with("spec", ri.spec.clone())
        .with("router", ri.router_id.clone())
        .with("opposite", ri.opposite_interface_id.clone())
        .with("opposite_status", output::label(ri.opposite_interface_status()))
        .with("business_status", output::label(ri.business_status()))
        .with("owner", ri.owner_id.clone())
        .with("name", ri.name.clone())
        .with("description", ri.description.clone())
        .with("region", ri.region_id.clone())
        .with("router_type", output::router_type(ri.router_type()))
        .with("access_point", ri.access_point_id.clone())
        .with("bandwidth", ri.bandwidth)
        .with("opposite_owner", ri.opposite_interface_owner_id.clone())
        .with("opposite_region", ri.opposite_region_id.clone())
        .with("opposite_router", ri.opposite_router_id.clone())
        .with("opposite_router_type", output::router_type(ri.opposite_router_type()))
        .with("opposite_access_point", ri.opposite_access_point_id.clone())
        .with("opposite_spec", ri.opposite_interface_spec.clone())
        .with("opposite_bandwidth", ri.opposite_bandwidth)
        .with("opposite_business_status", output::label(ri.opposite_interface_business_status()))
        .with("suspended_by", ri.suspended_by.clone())
        .with("status_reason", ri.status_reason.clone())
        .with("last_error", ri.last_error.clone())
        .with("charge_type", output::charge_type(ri.instance_charge_type()))
        .with("pricing_cycle", output::label(ri.pricing_cycle()))
        .with("period", ri.period)
        .with("auto_renew", ri.auto_renew)
        .with("charged", ri.charged)
        .with("end_time", ri.end_time.clone())
        .with("overdue_since", ri.overdue_since.clone())
        .with("reservation_spec", ri.reservation_spec.clone())
        .with("reservation_active_time", ri.reservation_active_time.clone())
        .with("health_check_source_ip", ri.health_check_source_ip.clone())
        .with("health_check_target_ip", ri.health_check_target_ip.clone())
        .with("creation_time", ri.creation_time.clone())
        .with("connected_time", ri.connected_time.clone())
        .with("version", ri.version)
}

/// A router id as the API wants it: a VPC is named by its vRouter, vrt- and the VPC id's suffix.
pub fn router_id(id: String) -> String {
    match id.strip_prefix("vpc-") {
        Some(suffix) => format!("vrt-{suffix}"),
        None => id,
    }
}

/// The router type an id names, unless given: the service says when neither fits.
fn router_type(given: Option<pb::RouterType>, id: &str) -> pb::RouterType {
    given.unwrap_or(if id.starts_with("vbr-") {
        pb::RouterType::Vbr
    } else if id.starts_with("vrt-") {
        pb::RouterType::Vrouter
    } else {
        pb::RouterType::Unspecified
    })
}

impl Create {
    fn request(self) -> pb::CreateRouterInterfaceRequest {
        let router = router_id(self.router);
        let opposite_router = self.opposite_router.map(router_id).unwrap_or_default();
        pb::CreateRouterInterfaceRequest {
            region_id: self.region,
            role: self.role.to_pb() as i32,
            router_type: router_type(self.router_type, &router) as i32,
            router_id: router,
            spec: self.spec.unwrap_or_default(),
            opposite_region_id: self.opposite_region.unwrap_or_default(),
            opposite_router_type: self.opposite_router_type.unwrap_or_default() as i32,
            opposite_router_id: opposite_router,
            opposite_interface_id: self.opposite_interface.unwrap_or_default(),
            opposite_interface_owner_id: self.opposite_owner.unwrap_or_default(),
            access_point_id: self.access_point.unwrap_or_default(),
            opposite_access_point_id: self.opposite_access_point.unwrap_or_default(),
            name: self.name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            instance_charge_type: self.charge_type.unwrap_or_default() as i32,
            pricing_cycle: self.cycle.unwrap_or_default() as i32,
            period: self.period.unwrap_or_default(),
            auto_pay: self.auto_pay,
            auto_renew: self.auto_renew,
            health_check_source_ip: self.health_check_source_ip.unwrap_or_default(),
            health_check_target_ip: self.health_check_target_ip.unwrap_or_default(),
            client_token: String::new(),
        }
    }
}

/// A change the other end must confirm, and the status it ends in when it has.
#[derive(Debug, Clone, Copy)]
pub enum Transition {
    Connect,
    Suspend,
    Activate,
}

impl Transition {
    pub fn goal(self) -> pb::Status {
        match self {
            Transition::Connect | Transition::Activate => pb::Status::Activated,
            Transition::Suspend => pb::Status::Suspended,
        }
    }

    /// Asks for the change; the answer is the end's status then (transitional if the other end has not
    /// confirmed within the service's settle wait).
    pub async fn start(self, api: &mut Api, id: &str) -> Result<pb::Status, Failure> {
        let router_interface_id = id.to_owned();
        Ok(match self {
            Transition::Connect => {
                let request = pb::ConnectRouterInterfaceRequest { router_interface_id, ..Default::default() };
                api.ris.connect_router_interface(request).await?.into_inner().status()
            }
            Transition::Suspend => {
                let request = pb::DeactivateRouterInterfaceRequest { router_interface_id, ..Default::default() };
                api.ris.deactivate_router_interface(request).await?.into_inner().status()
            }
            Transition::Activate => {
                let request = pb::ActivateRouterInterfaceRequest { router_interface_id, ..Default::default() };
                api.ris.activate_router_interface(request).await?.into_inner().status()
            }
        })
    }
}

/// Starts `transition` on `id` and, unless told not to, waits for the end to settle and checks that it
/// settled where the transition leads (a refused cross-account connect returns to Idle, say).
async fn transition(
    api: &mut Api,
    format: Format,
    id: &str,
    transition: Transition,
    waiting: Waiting,
) -> Result<(), Failure> {
    transition.start(api, id).await?;
    let ri = if waiting.no_wait {
        describe(&mut api.ris, id).await?
    } else {
        wait::until_settled(&mut api.ris, id, waiting.timeout).await?
    };
    output::one(format, &COLUMNS, &record(&ri));
    if waiting.no_wait || ri.status() == transition.goal() {
        return Ok(());
    }
    let why = [&ri.last_error, &ri.status_reason].into_iter().find(|s| !s.is_empty()).cloned().unwrap_or_default();
    Err(Failure::Other(format!(
        "{id} settled {} instead of {}: {why}",
        output::label(ri.status()),
        output::label(transition.goal())
    )))
}

impl Verb {
    pub async fn run(self, client: ClientArgs) -> Result<(), Failure> {
        let format = client.format();
        let mut api = client.api()?;
        match self {
            Verb::Create(create) => {
                let id = api.ris.create_router_interface(create.request()).await?.into_inner().router_interface_id;
                output::one(format, &COLUMNS, &record(&describe(&mut api.ris, &id).await?));
            }
            Verb::Modify {
                id,
                name,
                description,
                opposite_interface,
                opposite_router,
                opposite_router_type,
                opposite_owner,
                health_check_source_ip,
                health_check_target_ip,
                delete_health_check,
            } => {
                let opposite_router = opposite_router.map(router_id);
                let request = pb::ModifyRouterInterfaceAttributeRequest {
                    router_interface_id: id.clone(),
                    name,
                    description,
                    opposite_interface_id: opposite_interface,
                    opposite_router_type: opposite_router_type.unwrap_or_default() as i32,
                    opposite_router_id: opposite_router,
                    opposite_interface_owner_id: opposite_owner,
                    health_check_source_ip,
                    health_check_target_ip,
                    delete_health_check,
                    client_token: String::new(),
                };
                api.ris.modify_router_interface_attribute(request).await?;
                output::one(format, &COLUMNS, &record(&describe(&mut api.ris, &id).await?));
            }
            Verb::Connect { id, waiting } => transition(&mut api, format, &id, Transition::Connect, waiting).await?,
            Verb::Suspend { id, waiting } => transition(&mut api, format, &id, Transition::Suspend, waiting).await?,
            Verb::Activate { id, waiting } => transition(&mut api, format, &id, Transition::Activate, waiting).await?,
            Verb::Upgrade { id, spec } => {
                let request = pb::ModifyRouterInterfaceSpecRequest {
                    router_interface_id: id.clone(),
                    spec,
                    ..Default::default()
                };
                let changed = api.ris.modify_router_interface_spec(request).await?.into_inner();
                let record = Record::new()
                    .with("id", id)
                    .with("spec", changed.spec)
                    .with("bandwidth", changed.bandwidth)
                    .with("order", changed.order_id);
                output::one(format, &["id", "spec", "bandwidth", "order"], &record);
            }
            Verb::Renew { id, period, cycle, spec } => {
                let request = pb::RenewInstanceRequest {
                    router_interface_id: id.clone(),
                    pricing_cycle: cycle as i32,
                    period,
                    spec: spec.unwrap_or_default(),
                    ..Default::default()
                };
                let renewed = api.billing.renew_instance(request).await?.into_inner();
                let record =
                    Record::new().with("id", id).with("order", renewed.order_id).with("end_time", renewed.end_time);
                output::one(format, &["id", "order", "end_time"], &record);
            }
            Verb::Delete { id } => {
                let request =
                    pb::DeleteRouterInterfaceRequest { router_interface_id: id.clone(), ..Default::default() };
                api.ris.delete_router_interface(request).await?;
                output::done(format, "deleted", &id);
            }
            Verb::Describe { id: Some(id), .. } => {
                output::all_fields(format, &record(&describe(&mut api.ris, &id).await?))
            }
            Verb::Describe { id: None, status, role, router, region } => {
                let request = pb::DescribeRouterInterfacesRequest {
                    status: status.unwrap_or_default() as i32,
                    role: role.map_or(pb::Role::Unspecified, Role::to_pb) as i32,
                    router_id: router.map(router_id).unwrap_or_default(),
                    region_id: region.unwrap_or_default(),
                    ..Default::default()
                };
                let all =
                    all_pages(&api.ris, request, async |mut ris, r| ris.describe_router_interfaces(r).await).await?;
                output::list(format, &COLUMNS, &all.iter().map(record).collect::<Vec<_>>());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_enums_by_their_names_without_the_prefix() {
        let status = api_enum("STATUS_", pb::Status::from_str_name);
        assert_eq!(status("Activated"), Ok(pb::Status::Activated));
        assert_eq!(status("suspended"), Ok(pb::Status::Suspended));
        assert!(status("unspecified").is_err());
        assert!(status("active").is_err());
        let cycle = api_enum("PRICING_CYCLE_", pb::PricingCycle::from_str_name);
        assert_eq!(cycle("year"), Ok(pb::PricingCycle::Year));
    }

    #[test]
    fn a_vpc_is_named_by_its_vrouter() {
        assert_eq!(router_id("vpc-abc".to_owned()), "vrt-abc");
        assert_eq!(router_id("vbr-abc".to_owned()), "vbr-abc");
        assert_eq!(router_type(None, "vbr-abc"), pb::RouterType::Vbr);
        assert_eq!(router_type(None, "x"), pb::RouterType::Unspecified);
    }
}
