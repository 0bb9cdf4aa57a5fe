//! Does traffic from a VPC or VBR reach an address now, and if not, why? Longest-prefix match in the
//! source's route table, then the router interface, the connection and both ends' business status, then
//! the way back in the other router's table (which the other end reports about itself).

use std::net::Ipv4Addr;

use super::model::{BusinessStatus, Role, RouteEntry, RouterInterface, Status};
use super::text::{self, Cidr};

/// Where the traffic starts.
#[derive(Debug)]
pub struct Source<'a> {
    /// `vpc-…` or `vbr-…`.
    pub id: &'a str,
    pub route_table_id: &'a str,
    /// A VPC's own block; `None` for a VBR.
    pub cidr: Option<Cidr>,
    pub entries: Vec<&'a RouteEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub reachable: bool,
    pub hops: Vec<String>,
    pub failed_hop: String,
    pub reason: String,
}

impl Answer {
    fn fail(mut self, hop: impl Into<String>, reason: impl Into<String>) -> Self {
        self.failed_hop = hop.into();
        self.reason = reason.into();
        self
    }
}

/// The entry with the longest prefix containing `ip`.
pub fn longest_match<'a>(entries: &[&'a RouteEntry], ip: Ipv4Addr) -> Option<(&'a RouteEntry, Cidr)> {
    entries
        .iter()
        .filter_map(|e| text::stored_cidr(&e.destination_cidr_block).map(|c| (*e, c)))
        .filter(|(_, c)| c.contains(ip))
        .max_by_key(|(_, c)| c.prefix_len)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::InitiatingSide => "initiator",
        Role::AcceptingSide => "acceptor",
    }
}

pub fn check<'a>(
    source: &Source<'_>,
    destination: Ipv4Addr,
    interface: impl Fn(&str) -> Option<&'a RouterInterface>,
) -> Answer {
    let mut answer = Answer::default();
    if let Some(own) = source.cidr.filter(|c| c.contains(destination)) {
        answer.hops.push(format!(
            "{}: {destination} is inside {}/{} (system route)",
            source.route_table_id, own.network, own.prefix_len
        ));
        answer.reachable = true;
        return answer;
    }
    let Some((entry, matched)) = longest_match(&source.entries, destination) else {
        let hop = source.route_table_id.to_owned();
        return answer.fail(hop.clone(), format!("no route to {destination} in {hop}"));
    };
    answer.hops.push(format!(
        "{}: {}/{} via {} (longest match, {})",
        source.route_table_id, matched.network, matched.prefix_len, entry.next_hop_id, entry.route_entry_id
    ));
    let Some(end) = interface(&entry.next_hop_id) else {
        return answer
            .fail(entry.next_hop_id.clone(), format!("router interface {} does not exist", entry.next_hop_id));
    };
    let hop = end.router_interface_id.clone();
    let Some(link) = end.link.as_ref() else {
        return answer.fail(hop, format!("{} is {:?}: not connected", end.router_interface_id, end.status));
    };
    match end.status {
        Status::Activated => {}
        Status::Suspended | Status::Suspending => {
            let by = end.suspended_by();
            let reason = if by.is_empty() {
                format!("the connection is {:?}", end.status)
            } else {
                format!("suspended by account {}", by.join(" and account "))
            };
            return answer.fail(hop, reason);
        }
        other => return answer.fail(hop, format!("the connection is {other:?}, not Activated")),
    }
    for (role, business) in [(end.role, end.business_status), (opposite_role(end.role), link.opposite.business_status)]
    {
        if business != BusinessStatus::Normal {
            return answer.fail(hop, format!("{} end {business:?}", role_name(role)));
        }
    }
    let opposite = &link.opposite;
    answer.hops.push(format!(
        "{} ⇄ {} (account {}): Activated",
        end.router_interface_id, opposite.interface_id, opposite.owner_id
    ));
    let opposite_table = format!("vtb-{}", super::ids::suffix(&opposite.router_id));
    if let Some(peer_cidr) = text::stored_cidr(&opposite.router_cidr)
        && !peer_cidr.contains(destination)
    {
        return answer.fail(
            opposite.router_id.clone(),
            format!(
                "{destination} is not in {} ({}); the peer VPC does not hold it",
                opposite.router_id, opposite.router_cidr
            ),
        );
    }
    let back = opposite.routes_via.iter().filter_map(|d| text::stored_cidr(d).map(|c| (d, c))).find(|(_, c)| {
        match source.cidr {
            Some(own) => c.covers(&own),
            None => true,
        }
    });
    match back {
        Some((destination_block, _)) => {
            answer.hops.push(format!("{opposite_table}: route back {destination_block} via {}", opposite.interface_id));
            answer.reachable = true;
            answer
        }
        None => {
            let towards =
                source.cidr.map_or_else(|| source.id.to_owned(), |c| format!("{}/{}", c.network, c.prefix_len));
            answer.fail(opposite_table.clone(), format!("no return route in {opposite_table} for {towards}"))
        }
    }
}

fn opposite_role(role: Role) -> Role {
    match role {
        Role::InitiatingSide => Role::AcceptingSide,
        Role::AcceptingSide => Role::InitiatingSide,
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::model::{EndReport, Link, RouterType};

    fn entry(id: &str, destination: &str, via: &str) -> RouteEntry {
        RouteEntry {
            route_entry_id: id.into(),
            route_table_id: "vtb-a".into(),
            destination_cidr_block: destination.into(),
            next_hop_id: via.into(),
            name: String::new(),
            creation_time: DateTime::default(),
        }
    }

    fn connected(status: Status, routes_back: &[&str]) -> RouterInterface {
        let opposite = EndReport {
            interface_id: "ri-b".into(),
            owner_id: "1000000000000002".into(),
            router_id: "vrt-b".into(),
            router_type: RouterType::VRouter,
            region_id: "cn-shanghai".into(),
            version: 3,
            status,
            spec: "Negative".into(),
            bandwidth: 0,
            business_status: BusinessStatus::Normal,
            own_suspended: status == Status::Suspended,
            intent_version: 1,
            seen_intent_version: 1,
            echoed_intent_version: 1,
            partner_interface_id: "ri-a".into(),
            router_cidr: "10.0.0.0/8".into(),
            routes_via: routes_back.iter().map(|s| (*s).to_owned()).collect(),
            deleted: false,
        };
        RouterInterface {
            status,
            last_opposite_status: Some(status),
            link: Some(Box::new(Link {
                own_suspended: false,
                intent_version: 1,
                settled_suspended: Some(false),
                opposite,
            })),
            version: 5,
            router_cidr: "172.16.0.0/12".into(),
            routes_via: vec!["10.0.0.0/8".into()],
            ..RouterInterface::sample("ri-a", "1000000000000001", "vrt-a", Role::InitiatingSide)
        }
    }

    fn source<'a>(entries: Vec<&'a RouteEntry>) -> Source<'a> {
        Source { id: "vpc-a", route_table_id: "vtb-a", cidr: text::stored_cidr("172.16.0.0/12"), entries }
    }

    fn ask(end: &RouterInterface, entries: Vec<&RouteEntry>, ip: &str) -> Answer {
        check(&source(entries), ip.parse().unwrap(), |id| (id == "ri-a").then_some(end))
    }

    #[test]
    fn reachable_with_routes_both_ways() {
        let end = connected(Status::Activated, &["172.16.0.0/12"]);
        let e = entry("rte-1", "10.0.0.0/8", "ri-a");
        let answer = ask(&end, vec![&e], "10.1.2.3");
        assert!(answer.reachable, "{answer:?}");
        assert_eq!(answer.hops.len(), 3);
    }

    #[test]
    fn longest_prefix_wins() {
        let wide = entry("rte-1", "10.0.0.0/8", "ri-x");
        let narrow = entry("rte-2", "10.1.0.0/16", "ri-a");
        assert_eq!(
            longest_match(&[&wide, &narrow], "10.1.2.3".parse().unwrap()).map(|(e, _)| e.route_entry_id.as_str()),
            Some("rte-2")
        );
        assert_eq!(
            longest_match(&[&wide, &narrow], "10.2.0.1".parse().unwrap()).map(|(e, _)| e.route_entry_id.as_str()),
            Some("rte-1")
        );
    }

    #[test]
    fn each_failing_hop_says_why() {
        let e = entry("rte-1", "10.0.0.0/8", "ri-a");
        let no_route = ask(&connected(Status::Activated, &["172.16.0.0/12"]), vec![], "10.1.2.3");
        assert_eq!((no_route.reachable, no_route.reason.as_str()), (false, "no route to 10.1.2.3 in vtb-a"));
        let mut suspended = connected(Status::Suspended, &["172.16.0.0/12"]);
        if let Some(link) = suspended.link.as_mut() {
            link.opposite.own_suspended = true;
        }
        assert_eq!(ask(&suspended, vec![&e], "10.1.2.3").reason, "suspended by account 1000000000000002");
        let no_return = ask(&connected(Status::Activated, &[]), vec![&e], "10.1.2.3");
        assert!(no_return.reason.starts_with("no return route in vtb-b"), "{no_return:?}");
        let outside = ask(
            &connected(Status::Activated, &["172.16.0.0/12"]),
            vec![&entry("rte-1", "0.0.0.0/0", "ri-a")],
            "8.8.8.8",
        );
        assert!(outside.reason.contains("not in vrt-b"), "{outside:?}");
        let mut locked = connected(Status::Activated, &["172.16.0.0/12"]);
        locked.business_status = BusinessStatus::FinancialLocked;
        assert_eq!(ask(&locked, vec![&e], "10.1.2.3").reason, "initiator end FinancialLocked");
        let inside = ask(&locked, vec![], "172.16.9.9");
        assert!(inside.reachable, "an address inside the source VPC is reached by its system route");
    }
}
