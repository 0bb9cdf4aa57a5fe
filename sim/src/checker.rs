//! The invariants of the peer protocol (DESIGN.md), checked on what the simulated users can see.

use std::collections::{BTreeMap, HashMap};

use shared::api::v1 as pb;

use crate::model::{Model, Own};

/// Every end of every account, by id, with the account whose service answered for it.
pub type Snapshot = BTreeMap<String, (&'static str, pb::RouterInterface)>;

/// Adds every end of `account` to `snapshot`, page by page (50 a page) as `page(n)` fetches them;
/// `None` if a page could not be had.
pub async fn add_account<F, Fut>(snapshot: &mut Snapshot, account: &'static str, page: F) -> Option<()>
where
    F: Fn(i32) -> Fut,
    Fut: std::future::Future<Output = Option<Vec<pb::RouterInterface>>>,
{
    for number in 1.. {
        let ends = page(number).await?;
        let last = ends.len() < 50;
        for ri in ends {
            snapshot.insert(ri.router_interface_id.clone(), (account, ri));
        }
        if last {
            break;
        }
    }
    Some(())
}

fn transitional(s: pb::Status) -> bool {
    matches!(s, pb::Status::Connecting | pb::Status::Accepting | pb::Status::Suspending | pb::Status::Activating)
}

fn linked(ri: &pb::RouterInterface) -> bool {
    matches!(ri.status(), pb::Status::Activated | pb::Status::Suspended)
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Checks that hold at every moment: ownership, and versions that only grow.
pub fn check_always(snapshot: &Snapshot, max_version: &mut HashMap<String, u64>, violations: &mut Vec<String>) {
    for (id, (account, ri)) in snapshot {
        if ri.owner_id != *account {
            violations.push(format!("ownership: {id} is served by account {account} but says owner {}", ri.owner_id));
        }
        let seen = max_version.entry(id.clone()).or_insert(ri.version);
        if ri.version < *seen {
            violations.push(format!("versions: {id} went back from version {seen} to {}", ri.version));
        }
        *seen = (*seen).max(ri.version);
    }
}

/// Checks that hold once the network healed and nothing is in flight: agreement, consent, durability of
/// acknowledged calls, no transitional status left. Returns the violations.
pub fn check_quiescent(snapshot: &Snapshot, model: &Model) -> Vec<String> {
    let mut violations = Vec::new();
    for (id, end) in &model.ends {
        match (end.exists, snapshot.contains_key(id)) {
            (Some(true), false) => violations.push(format!("durability: {id} was created (acknowledged) but is gone")),
            (Some(false), true) => {
                violations.push(format!("durability: {id} was deleted (acknowledged) but is still there"));
            }
            _ => {}
        }
    }
    for (id, (_, ri)) in snapshot {
        if transitional(ri.status()) {
            violations.push(format!("convergence: {id} is still {:?}", ri.status()));
            continue;
        }
        if !linked(ri) {
            continue;
        }
        let partner = &ri.opposite_interface_id;
        let Some((_, p)) = snapshot.get(partner) else {
            violations.push(format!("agreement: {id} is {:?} with {partner}, which does not exist", ri.status()));
            continue;
        };
        let agree = p.opposite_interface_id == *id
            && p.status() == ri.status()
            && ri.opposite_interface_status() == p.status()
            && ri.opposite_router_id == p.router_id
            && ri.opposite_interface_owner_id == p.owner_id
            && ri.opposite_region_id == p.region_id
            && sorted(&ri.suspended_by) == sorted(&p.suspended_by)
            && (ri.opposite_interface_spec == p.spec && ri.opposite_bandwidth == p.bandwidth);
        if !agree {
            violations.push(format!("agreement: {id} and {partner} disagree:\n  {ri:?}\n  {p:?}"));
        }
        if ri.suspended_by.iter().any(|by| *by != ri.owner_id && *by != p.owner_id) {
            violations.push(format!("ownership: {id} is suspended by a stranger: {:?}", ri.suspended_by));
        }
        if let Some(Own { suspended }) = model.ends.get(id).and_then(|e| e.own)
            && ri.suspended_by.contains(&ri.owner_id) != suspended
        {
            violations.push(format!(
                "durability: the owner of {id} {} it (acknowledged), but suspended_by is {:?}",
                if suspended { "suspended" } else { "activated" },
                ri.suspended_by
            ));
        }
    }
    violations
}
