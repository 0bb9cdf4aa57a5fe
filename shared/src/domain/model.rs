//! The resources of one account, as stored and as the rules see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub vpc_id: String,
    pub region_id: String,
    pub cidr_block: String,
    pub vrouter_id: String,
    pub route_table_id: String,
    pub name: String,
    pub description: String,
    pub creation_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vbr {
    pub vbr_id: String,
    pub region_id: String,
    pub access_point_id: String,
    pub route_table_id: String,
    pub name: String,
    pub description: String,
    pub creation_time: DateTime<Utc>,
}

/// A custom entry of a route table: traffic to `destination_cidr_block` goes to a router interface of the
/// table's router. (A VPC's system entry, its own CIDR block, is derived from the VPC, not stored.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub route_entry_id: String,
    pub route_table_id: String,
    pub destination_cidr_block: String,
    /// A router interface (`ri-…`).
    pub next_hop_id: String,
    pub name: String,
    pub creation_time: DateTime<Utc>,
}

/// The seed's statuses (console names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Idle,
    Connecting,
    Accepting,
    Activated,
    Suspending,
    Suspended,
    Activating,
    Modifying,
    Deleting,
    Deleted,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Idle,
        Status::Connecting,
        Status::Accepting,
        Status::Activated,
        Status::Suspending,
        Status::Suspended,
        Status::Activating,
        Status::Modifying,
        Status::Deleting,
        Status::Deleted,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    InitiatingSide,
    AcceptingSide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouterType {
    VRouter,
    Vbr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargeType {
    PostPaid,
    PrePaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PricingCycle {
    Month,
    Year,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BusinessStatus {
    #[default]
    Normal,
    FinancialLocked,
    SecurityLocked,
}

/// The other end as this end's owner configured it (the real API's Opposite* fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OppositeConfig {
    pub region_id: String,
    pub router_id: String,
    pub router_type: Option<RouterType>,
    pub interface_id: String,
    pub owner_id: String,
    pub access_point_id: String,
}

impl OppositeConfig {
    /// The four fields Connect needs on both ends.
    pub fn missing_for_connect(&self) -> Option<&'static str> {
        if self.interface_id.is_empty() {
            Some("opposite_interface_id")
        } else if self.owner_id.is_empty() {
            Some("opposite_interface_owner_id")
        } else if self.router_id.is_empty() {
            Some("opposite_router_id")
        } else if self.router_type.is_none() {
            Some("opposite_router_type")
        } else {
            None
        }
    }
}

/// What one end tells the other about itself: the message of the peer link, also used between two ends
/// of one account. A full snapshot, so applying it twice or late does no harm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndReport {
    pub interface_id: String,
    pub owner_id: String,
    pub router_id: String,
    pub router_type: RouterType,
    pub region_id: String,
    /// The sender's generation; a receiver ignores a report not newer than the last it applied.
    pub version: u64,
    pub status: Status,
    pub spec: String,
    pub bandwidth: u32,
    pub business_status: BusinessStatus,
    /// Whether the sender's owner holds the connection suspended.
    pub own_suspended: bool,
    /// Grows with every suspend or activate by the sender's owner.
    pub intent_version: u64,
    /// The receiver's intent version that the sender has applied.
    pub seen_intent_version: u64,
    /// The sender's intent version that the sender knows the receiver has applied.
    pub echoed_intent_version: u64,
    /// The end the sender is connected to; empty while it is not.
    pub partner_interface_id: String,
    /// The sender's router's own CIDR block (a VPC's); empty for a VBR.
    #[serde(default)]
    pub router_cidr: String,
    /// Destinations the sender's route table sends through the sender's end: what the other side needs to
    /// know whether its traffic has a way back.
    #[serde(default)]
    pub routes_via: Vec<String>,
    /// The sender's end is gone.
    pub deleted: bool,
}

impl EndReport {
    /// Whether the sender's end is connected (or being connected) to an end: it names its partner.
    pub fn is_connected(&self) -> bool {
        !self.partner_interface_id.is_empty()
    }
}

/// One end's side of an established (or being established) connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub own_suspended: bool,
    pub intent_version: u64,
    /// Whether the connection was suspended at the last moment both sides had confirmed everything;
    /// `None` until the handshake first completed.
    pub settled_suspended: Option<bool>,
    /// The last report applied from the other end.
    pub opposite: EndReport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterInterface {
    pub router_interface_id: String,
    pub owner_id: String,
    pub name: String,
    pub description: String,
    pub region_id: String,
    pub role: Role,
    pub router_type: RouterType,
    pub router_id: String,
    pub access_point_id: String,
    /// A spec name, or Negative on an acceptor end.
    pub spec: String,
    pub status: Status,
    pub business_status: BusinessStatus,
    pub opposite: OppositeConfig,
    pub charge_type: ChargeType,
    pub pricing_cycle: Option<PricingCycle>,
    pub period: u32,
    pub auto_pay: bool,
    pub auto_renew: bool,
    pub health_check_source_ip: String,
    pub health_check_target_ip: String,
    pub creation_time: DateTime<Utc>,
    pub connected_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Why the last transition failed (a refused or timed-out connect, a connection the other end gave up).
    /// Boxed: rarely set, and every end would otherwise carry its size.
    pub last_error: Option<Box<super::error::DomainError>>,
    /// The opposite's status as last seen; `Deleted` once the other end was deleted.
    pub last_opposite_status: Option<Status>,
    /// Boxed: an end that is not connected would otherwise carry the size of a whole report.
    pub link: Option<Box<Link>>,
    pub version: u64,
    /// This end's router's own CIDR block (a VPC's); empty for a VBR.
    #[serde(default)]
    pub router_cidr: String,
    /// Destinations of the route entries that point at this end, sorted.
    #[serde(default)]
    pub routes_via: Vec<String>,
    #[serde(default)]
    pub billing: super::billing::EndBilling,
}

impl RouterInterface {
    /// An Idle, pay-as-you-go end in cn-hangzhou for unit tests; tests change what they need.
    #[cfg(test)]
    pub(crate) fn sample(id: &str, owner: &str, router: &str, role: Role) -> RouterInterface {
        RouterInterface {
            router_interface_id: id.into(),
            owner_id: owner.into(),
            name: String::new(),
            description: String::new(),
            region_id: "cn-hangzhou".into(),
            role,
            router_type: RouterType::VRouter,
            router_id: router.into(),
            access_point_id: String::new(),
            spec: if role == Role::InitiatingSide { "Large.1".into() } else { "Negative".into() },
            status: Status::Idle,
            business_status: BusinessStatus::Normal,
            opposite: OppositeConfig::default(),
            charge_type: ChargeType::PostPaid,
            pricing_cycle: None,
            period: 0,
            auto_pay: false,
            auto_renew: false,
            health_check_source_ip: String::new(),
            health_check_target_ip: String::new(),
            creation_time: DateTime::default(),
            connected_time: None,
            end_time: None,
            last_error: None,
            last_opposite_status: None,
            link: None,
            version: 1,
            router_cidr: String::new(),
            routes_via: Vec::new(),
            billing: super::billing::EndBilling::default(),
        }
    }

    pub fn bandwidth(&self) -> u32 {
        super::catalog::bandwidth(&self.spec)
    }

    /// Whether this is an initiator end whose connect the acceptor has not admitted yet.
    pub fn awaits_admission(&self) -> bool {
        self.status == Status::Connecting && self.link.is_none()
    }

    /// What this end tells the other end.
    pub fn report(&self) -> EndReport {
        let link = self.link.as_ref();
        EndReport {
            interface_id: self.router_interface_id.clone(),
            owner_id: self.owner_id.clone(),
            router_id: self.router_id.clone(),
            router_type: self.router_type,
            region_id: self.region_id.clone(),
            version: self.version,
            status: self.status,
            spec: self.spec.clone(),
            bandwidth: self.bandwidth(),
            business_status: self.business_status,
            own_suspended: link.is_some_and(|l| l.own_suspended),
            intent_version: link.map_or(0, |l| l.intent_version),
            seen_intent_version: link.map_or(0, |l| l.opposite.intent_version),
            echoed_intent_version: link.map_or(0, |l| l.opposite.seen_intent_version),
            partner_interface_id: link.map(|l| l.opposite.interface_id.clone()).unwrap_or_default(),
            router_cidr: self.router_cidr.clone(),
            routes_via: self.routes_via.clone(),
            deleted: false,
        }
    }

    /// The accounts whose suspension holds this connection suspended.
    pub fn suspended_by(&self) -> Vec<String> {
        let Some(link) = &self.link else {
            return Vec::new();
        };
        let mut by = Vec::new();
        if link.own_suspended {
            by.push(self.owner_id.clone());
        }
        if link.opposite.own_suspended {
            by.push(link.opposite.owner_id.clone());
        }
        by
    }
}
