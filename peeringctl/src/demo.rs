//! `peeringctl demo`: the seed user guide's procedures, run against the two accounts' running services as
//! a user would run them: VPC-to-VPC in one account and across two, suspend and activate from either
//! side, renew and upgrade, VBR-to-VPC, and the delete procedure. Both ends' statuses are printed as the
//! services report them (WatchRouterInterfaces); every expectation is a status or an answer waited for
//! with a deadline, never a sleep. New names and CIDR blocks each run, and what it made is deleted at the
//! end, also when a step fails, so it can run again and again against the same services.

mod made;
mod observer;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use shared::api::{peering_form, v1 as pb};
use shared::auth::Credentials;
use shared::config::{ACCEPTOR_DEFAULTS, INITIATOR_DEFAULTS};

use crate::client::{A_ENDPOINT, Api, B_ENDPOINT, Failure, describe};
use crate::commands::ri::Transition;
use crate::output::{label, say};
use crate::wait;
use made::{Inventory, Made, Who};
use observer::Observer;

const ACCOUNT_A: &str = INITIATOR_DEFAULTS.account_id;
const ACCOUNT_B: &str = ACCEPTOR_DEFAULTS.account_id;
const HANGZHOU: &str = "cn-hangzhou";
const SHANGHAI: &str = "cn-shanghai";
const ACCESS_POINT: &str = "ap-cn-hangzhou-yh-B";
/// The on-premises network behind the VBR.
const DATA_CENTER: &str = "192.0.2.0/24";
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Args)]
pub struct Demo {
    /// Account A's service (initiator-svc), development keys.
    #[arg(long, env = "PEERINGCTL_INITIATOR", default_value = A_ENDPOINT)]
    initiator: String,
    /// Account B's service (acceptor-svc), development keys.
    #[arg(long, env = "PEERINGCTL_ACCEPTOR", default_value = B_ENDPOINT)]
    acceptor: String,
    /// Seconds to wait for each change to show on both sides.
    #[arg(long, default_value = "30", value_parser = wait::parse_timeout)]
    timeout: Duration,
    /// The CA (PEM) to trust for https:// services.
    #[arg(long, env = "PEERINGCTL_TLS_CA")]
    tls_ca: Option<PathBuf>,
}

/// One end of a connection, and how the demo's lines name it ("A initiator").
#[derive(Debug, Clone)]
struct End {
    who: Who,
    id: String,
    label: &'static str,
}

/// Where to check that traffic flows: from a router of `who` to an address across the connection.
#[derive(Debug, Clone)]
struct Probe {
    who: Who,
    source: String,
    ip: String,
}

#[derive(Debug, Clone)]
struct Connection {
    what: &'static str,
    initiator: End,
    acceptor: End,
    routes: Vec<Made>,
    probe: Option<Probe>,
}

struct Run {
    a: Api,
    b: Api,
    timeout: Duration,
    /// Makes this run's names unique.
    tag: String,
    /// Makes this run's CIDR blocks unique.
    octet: u8,
    made: Inventory,
}

impl Demo {
    pub async fn run(self) -> Result<(), Failure> {
        let key = |account: &str| Credentials::development(account).account;
        let random = shared::random::next_u128();
        let mut run = Run {
            a: Api::connect(&self.initiator, key(ACCOUNT_A), self.tls_ca.as_deref())?,
            b: Api::connect(&self.acceptor, key(ACCOUNT_B), self.tls_ca.as_deref())?,
            timeout: self.timeout,
            tag: format!("{:04x}", random & 0xffff),
            octet: ((random >> 16) & 0xff) as u8,
            made: Inventory::default(),
        };
        say!(
            "peeringctl demo {}: account A {ACCOUNT_A} at {}, account B {ACCOUNT_B} at {}",
            run.tag,
            self.initiator,
            self.acceptor
        );
        match run.steps().await {
            Ok(()) => {
                say!("\ndemo finished: every step behaved, and everything it made is deleted");
                Ok(())
            }
            Err(failure) => {
                eprintln!("peeringctl demo: {failure}\ndeleting what the demo made...");
                let (a, b) = (run.a.clone(), run.b.clone());
                let api = move |who| if who == Who::A { a.clone() } else { b.clone() };
                for left in run.made.clean_up(api, run.timeout).await {
                    eprintln!("  could not delete {left}");
                }
                Err(failure)
            }
        }
    }
}

/// Runs one step under a heading; its failure names it.
async fn step<T>(title: &str, work: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    say!("\n== {title}");
    work.await.map_err(|failure| failure.during(format!("step {title}")))
}

impl Run {
    async fn steps(&mut self) -> Result<(), Failure> {
        let same = step("(a) VPC-to-VPC in one account: Initiator and Acceptor", self.same_account()).await?;
        let cross = step("(b) VPC-to-VPC across accounts, routes both ways", self.across_accounts()).await?;
        step("(c) suspend and activate, from either side", self.suspend_and_activate(&cross)).await?;
        step("(d) renew and upgrade", self.billing(&same, &cross)).await?;
        let vbr = step("(e) VBR-to-VPC in one account", self.vbr_to_vpc()).await?;
        step("(f) delete: route entries, suspend initiator, suspend acceptor, delete", self.delete(&[cross, same, vbr]))
            .await
    }

    fn api(&self, who: Who) -> Api {
        match who {
            Who::A => self.a.clone(),
            Who::B => self.b.clone(),
        }
    }

    fn name(&self, what: &str) -> String {
        format!("demo-{}-{what}", self.tag)
    }

    async fn vpc(&mut self, who: Who, region: &str, cidr: &str, what: &str) -> Result<pb::CreateVpcResponse, Failure> {
        let request = pb::CreateVpcRequest {
            region_id: region.to_owned(),
            cidr_block: cidr.to_owned(),
            vpc_name: self.name(what),
            ..Default::default()
        };
        let vpc = self.api(who).vpcs.create_vpc(request).await?.into_inner();
        self.made.add(Made::Vpc { who, id: vpc.vpc_id.clone() });
        say!("  {who:?} created {} ({cidr} in {region})", vpc.vpc_id);
        Ok(vpc)
    }

    async fn peering(
        &mut self,
        who: Who,
        request: pb::CreatePeeringConnectionRequest,
    ) -> Result<pb::CreatePeeringConnectionResponse, Failure> {
        let ends = self.api(who).ris.create_peering_connection(request).await?.into_inner();
        for id in [&ends.initiator_interface_id, &ends.acceptor_interface_id] {
            if !id.is_empty() {
                self.made.add(Made::End { who, id: id.clone() });
            }
        }
        Ok(ends)
    }

    async fn route(&mut self, who: Who, table: &str, destination: &str, next_hop: &str) -> Result<Made, Failure> {
        let request = pb::CreateRouteEntryRequest {
            route_table_id: table.to_owned(),
            destination_cidr_block: destination.to_owned(),
            next_hop_type: pb::NextHopType::RouterInterface as i32,
            next_hop_id: next_hop.to_owned(),
            ..Default::default()
        };
        let id = self.api(who).vpcs.create_route_entry(request).await?.into_inner().route_entry_id;
        say!("  {who:?} added route {id} to {table}: {destination} via {next_hop}");
        let route = Made::Route { who, id };
        self.made.add(route.clone());
        Ok(route)
    }

    async fn observe(&self, c: &Connection) -> Result<Observer, Failure> {
        let end = |e: &End| (e.label.to_owned(), self.api(e.who).ris, e.id.clone());
        Observer::watch(vec![end(&c.initiator), end(&c.acceptor)], self.timeout).await
    }

    /// Asks for `transition` on `end`, saying so, and what the call answered.
    async fn change(&self, end: &End, transition: Transition) -> Result<(), Failure> {
        say!("  {} {}: {transition:?}", end.label, end.id);
        let answer = transition.start(&mut self.api(end.who), &end.id).await?;
        say!("    (the call answered {})", label(answer));
        Ok(())
    }

    /// Checks the probe until the address is (or is not) reachable, printing the answer.
    async fn reachability(&self, probe: &Probe, reachable: bool) -> Result<(), Failure> {
        let mut vpcs = self.api(probe.who).vpcs;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let request =
                pb::CheckReachabilityRequest { source_id: probe.source.clone(), destination_ip: probe.ip.clone() };
            let answer = vpcs.check_reachability(request).await?.into_inner();
            if answer.reachable == reachable {
                let (who, source, ip) = (probe.who, &probe.source, &probe.ip);
                if reachable {
                    say!("  {who:?} {source} reaches {ip}:");
                    answer.hops.iter().for_each(|hop| say!("    {hop}"));
                } else {
                    say!("  {who:?} {source} does not reach {ip}: {}: {}", answer.failed_hop, answer.reason);
                }
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Failure::Other(format!(
                    "{} {} reach {} within {:?}: {answer:?}",
                    probe.source,
                    if reachable { "did not" } else { "still could" },
                    probe.ip,
                    self.timeout
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The console's "Same as Peer's", "Initiator and Acceptor": both ends made and connected at once.
    async fn same_account(&mut self) -> Result<Connection, Failure> {
        let n = self.octet;
        let hangzhou = self.vpc(Who::A, HANGZHOU, &format!("172.16.{n}.0/24"), "same-hz").await?;
        let shanghai = self.vpc(Who::A, SHANGHAI, &format!("172.17.{n}.0/24"), "same-sh").await?;
        // A subscription across regions, so the initiator is charged and step (d) has something to renew.
        let request = pb::CreatePeeringConnectionRequest {
            bandwidth: "Large.1".to_owned(),
            instance_charge_type: pb::InstanceChargeType::Prepaid as i32,
            pricing_cycle: pb::PricingCycle::Month as i32,
            period: 1,
            name: self.name("same"),
            ..peering_form(
                pb::AccountType::Same,
                pb::ConnectionType::VpcToVpc,
                pb::RoutersToCreate::InitiatorAndAcceptor,
                (HANGZHOU, &hangzhou.vpc_id),
                (SHANGHAI, &shanghai.vpc_id),
            )
        };
        let ends = self.peering(Who::A, request).await?;
        say!("  A created both ends at once (Large.1, a one-month subscription); the system connects them:");
        let connection = Connection {
            what: "VPC-to-VPC in account A",
            initiator: End { who: Who::A, id: ends.initiator_interface_id, label: "A initiator" },
            acceptor: End { who: Who::A, id: ends.acceptor_interface_id, label: "A acceptor" },
            routes: Vec::new(),
            probe: None,
        };
        self.observe(&connection).await?.until_all(pb::Status::Activated, self.timeout).await?;
        Ok(connection)
    }

    /// "Different from Peer's": each account creates its end, A names B's end, A connects.
    async fn across_accounts(&mut self) -> Result<Connection, Failure> {
        let n = self.octet;
        let (cidr_a, cidr_b) = (format!("10.{n}.0.0/16"), format!("192.168.{n}.0/24"));
        let vpc_a = self.vpc(Who::A, HANGZHOU, &cidr_a, "cross-a").await?;
        let vpc_b = self.vpc(Who::B, SHANGHAI, &cidr_b, "cross-b").await?;
        let (a, b) = ((HANGZHOU, vpc_a.vpc_id.as_str()), (SHANGHAI, vpc_b.vpc_id.as_str()));
        let (different, vpcs) = (pb::AccountType::Different, pb::ConnectionType::VpcToVpc);
        let request = pb::CreatePeeringConnectionRequest {
            peer_account_id: ACCOUNT_B.to_owned(),
            bandwidth: "Large.1".to_owned(),
            name: self.name("cross"),
            ..peering_form(different, vpcs, pb::RoutersToCreate::InitiatorOnly, a, b)
        };
        let initiator = self.peering(Who::A, request).await?.initiator_interface_id;
        say!("  A created its end {initiator} (Initiator Only, pay-as-you-go Large.1) towards B's {}", b.1);
        let request = pb::CreatePeeringConnectionRequest {
            peer_account_id: ACCOUNT_A.to_owned(),
            peer_interface_id: initiator.clone(),
            name: self.name("cross"),
            ..peering_form(different, vpcs, pb::RoutersToCreate::AcceptorOnly, b, a)
        };
        let acceptor = self.peering(Who::B, request).await?.acceptor_interface_id;
        say!("  B created its end {acceptor} (Acceptor Only) naming A's {initiator}");
        let request = pb::ModifyRouterInterfaceAttributeRequest {
            router_interface_id: initiator.clone(),
            opposite_interface_id: Some(acceptor.clone()),
            ..Default::default()
        };
        self.a.ris.modify_router_interface_attribute(request).await?;
        say!("  A recorded {acceptor} as its end's opposite");
        let mut connection = Connection {
            what: "VPC-to-VPC across accounts",
            initiator: End { who: Who::A, id: initiator.clone(), label: "A initiator" },
            acceptor: End { who: Who::B, id: acceptor.clone(), label: "B acceptor" },
            routes: Vec::new(),
            probe: Some(Probe { who: Who::A, source: vpc_a.vpc_id.clone(), ip: format!("192.168.{n}.10") }),
        };
        let mut observer = self.observe(&connection).await?;
        self.change(&connection.initiator, Transition::Connect).await?;
        observer.until_all(pb::Status::Activated, self.timeout).await?;

        // Traffic needs a route on each side: A sends B's block through its end, B sends A's back.
        connection.routes.push(self.route(Who::A, &vpc_a.route_table_id, &cidr_b, &initiator).await?);
        connection.routes.push(self.route(Who::B, &vpc_b.route_table_id, &cidr_a, &acceptor).await?);
        if let Some(probe) = &connection.probe {
            self.reachability(probe, true).await?;
        }
        Ok(connection)
    }

    /// Either owner suspends; each activates its own suspension; nothing is forwarded meanwhile.
    async fn suspend_and_activate(&mut self, c: &Connection) -> Result<(), Failure> {
        let mut observer = self.observe(c).await?;
        for end in [&c.initiator, &c.acceptor] {
            self.change(end, Transition::Suspend).await?;
            observer.until_all(pb::Status::Suspended, self.timeout).await?;
            if let Some(probe) = &c.probe {
                self.reachability(probe, false).await?;
            }
            self.change(end, Transition::Activate).await?;
            observer.until_all(pb::Status::Activated, self.timeout).await?;
        }
        if let Some(probe) = &c.probe {
            self.reachability(probe, true).await?;
        }
        Ok(())
    }

    /// Renew the subscription and upgrade it (it can only go up); upgrade the pay-as-you-go end across
    /// accounts, which the other account's end then shows.
    async fn billing(&mut self, same: &Connection, cross: &Connection) -> Result<(), Failure> {
        let id = &same.initiator.id;
        let before = describe(&mut self.a.ris, id).await?.end_time;
        let request = pb::RenewInstanceRequest {
            router_interface_id: id.clone(),
            pricing_cycle: pb::PricingCycle::Month as i32,
            period: 1,
            ..Default::default()
        };
        let renewed = self.a.billing.renew_instance(request).await?.into_inner();
        say!(
            "  A renewed {id} for a month: order {}, it now ends {} (was {before})",
            renewed.order_id,
            renewed.end_time
        );
        let parse =
            |t: &str| chrono::DateTime::parse_from_rfc3339(t).map_err(|e| Failure::Other(format!("{t:?}: {e}")));
        if parse(&renewed.end_time)? <= parse(&before)? {
            return Err(Failure::Other(format!("the renewal did not move the end time on from {before}")));
        }
        self.upgrade(&same.initiator, "Large.2").await?;
        let request =
            pb::DescribeOrdersRequest { router_interface_id: id.clone(), page_size: 50, ..Default::default() };
        let orders = self.a.billing.describe_orders(request).await?.into_inner().orders;
        for o in &orders {
            say!("    order {} {:<8} {:<8} {} {}", o.order_id, label(o.order_type()), o.spec, o.amount, o.currency);
        }
        for kind in [pb::OrderType::Buy, pb::OrderType::Renew, pb::OrderType::Upgrade] {
            if !orders.iter().any(|o| o.order_type() == kind) {
                return Err(Failure::Other(format!("{id} has no {} order", label(kind))));
            }
        }

        self.upgrade(&cross.initiator, "Large.2").await?;
        let mut ris = self.b.ris.clone();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let seen = describe(&mut ris, &cross.acceptor.id).await?;
            if seen.opposite_interface_spec == "Large.2" {
                say!(
                    "  B's end {} shows the opposite spec Large.2 ({} Mbit/s)",
                    seen.router_interface_id,
                    seen.opposite_bandwidth
                );
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Failure::Other(format!(
                    "B's end still shows the opposite spec {} after {:?}",
                    seen.opposite_interface_spec, self.timeout
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn upgrade(&mut self, end: &End, spec: &str) -> Result<(), Failure> {
        let request = pb::ModifyRouterInterfaceSpecRequest {
            router_interface_id: end.id.clone(),
            spec: spec.to_owned(),
            ..Default::default()
        };
        let changed = self.api(end.who).ris.modify_router_interface_spec(request).await?.into_inner();
        say!(
            "  {} {} upgraded now to {} ({} Mbit/s): order {}",
            end.label,
            end.id,
            changed.spec,
            changed.bandwidth,
            changed.order_id
        );
        Ok(())
    }

    /// A VBR (the initiator) and a VPC (the acceptor) of account A, connected at once; routes both ways
    /// between the VPC and the data center behind the VBR.
    async fn vbr_to_vpc(&mut self) -> Result<Connection, Failure> {
        let request = pb::CreateVirtualBorderRouterRequest {
            region_id: HANGZHOU.to_owned(),
            access_point_id: ACCESS_POINT.to_owned(),
            name: self.name("vbr"),
            ..Default::default()
        };
        let vbr = self.a.vpcs.create_virtual_border_router(request).await?.into_inner().vbr_id;
        self.made.add(Made::Vbr { who: Who::A, id: vbr.clone() });
        say!("  A created {vbr} at {ACCESS_POINT}");
        let request = pb::DescribeVirtualBorderRoutersRequest { vbr_ids: vec![vbr.clone()], ..Default::default() };
        let vbr_table = self
            .a
            .vpcs
            .describe_virtual_border_routers(request)
            .await?
            .into_inner()
            .virtual_border_routers
            .into_iter()
            .next()
            .map(|v| v.route_table_id)
            .ok_or_else(|| Failure::Other(format!("{vbr} is not listed")))?;
        let cidr = format!("172.18.{}.0/24", self.octet);
        let vpc = self.vpc(Who::A, HANGZHOU, &cidr, "vbr-vpc").await?;
        let request = pb::CreatePeeringConnectionRequest {
            bandwidth: "Large.1".to_owned(),
            name: self.name("vbr"),
            ..peering_form(
                pb::AccountType::Same,
                pb::ConnectionType::VbrToVpc,
                pb::RoutersToCreate::InitiatorAndAcceptor,
                (HANGZHOU, &vbr),
                (HANGZHOU, &vpc.vpc_id),
            )
        };
        let ends = self.peering(Who::A, request).await?;
        say!("  A created both ends at once, the VBR's as initiator; the system connects them:");
        let mut connection = Connection {
            what: "VBR-to-VPC in account A",
            initiator: End { who: Who::A, id: ends.initiator_interface_id, label: "A VBR initiator" },
            acceptor: End { who: Who::A, id: ends.acceptor_interface_id, label: "A VPC acceptor" },
            routes: Vec::new(),
            probe: Some(Probe { who: Who::A, source: vpc.vpc_id.clone(), ip: "192.0.2.10".to_owned() }),
        };
        self.observe(&connection).await?.until_all(pb::Status::Activated, self.timeout).await?;
        connection.routes.push(self.route(Who::A, &vpc.route_table_id, DATA_CENTER, &connection.acceptor.id).await?);
        connection.routes.push(self.route(Who::A, &vbr_table, &cidr, &connection.initiator.id).await?);
        if let Some(probe) = &connection.probe {
            self.reachability(probe, true).await?;
        }
        Ok(connection)
    }

    /// The seed's section 5 for each connection, then the VPCs and the VBR.
    async fn delete(&mut self, connections: &[Connection]) -> Result<(), Failure> {
        for c in connections {
            say!("  {}:", c.what);
            // Step 1: the custom route entries of both ends.
            for route in &c.routes {
                made::delete(route, &mut self.api(route.who()), self.timeout).await?;
                self.made.forget(route);
                say!("  {:?} deleted {route}", route.who());
            }
            // Step 2: suspend the initiator, suspend the acceptor, delete.
            let mut observer = self.observe(c).await?;
            for end in [&c.initiator, &c.acceptor] {
                self.change(end, Transition::Suspend).await?;
                observer.until_all(pb::Status::Suspended, self.timeout).await?;
            }
            self.delete_end(&c.initiator).await?;
            observer
                .until("the initiator Deleted, the acceptor Idle", self.timeout, |s| {
                    s == [pb::Status::Deleted, pb::Status::Idle]
                })
                .await?;
            self.delete_end(&c.acceptor).await?;
            observer.until_all(pb::Status::Deleted, self.timeout).await?;
        }
        for router in self.made.remaining() {
            made::delete(&router, &mut self.api(router.who()), self.timeout).await?;
            self.made.forget(&router);
            say!("  {:?} deleted {router}", router.who());
        }
        Ok(())
    }

    async fn delete_end(&mut self, end: &End) -> Result<(), Failure> {
        let request = pb::DeleteRouterInterfaceRequest { router_interface_id: end.id.clone(), ..Default::default() };
        self.api(end.who).ris.delete_router_interface(request).await?;
        self.made.forget(&Made::End { who: end.who, id: end.id.clone() });
        say!("  {} {}: deleted", end.label, end.id);
        Ok(())
    }
}
