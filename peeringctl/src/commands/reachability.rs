//! `peeringctl reachability`: does traffic from a VPC or VBR reach an address now, and if not, why?

use clap::Args;
use shared::api::v1 as pb;

use crate::client::{ClientArgs, Failure};
use crate::output::{self, Record};

#[derive(Debug, Args)]
pub struct Reachability {
    #[command(flatten)]
    client: ClientArgs,
    /// The VPC (vpc-…) or VBR (vbr-…) the traffic starts from.
    #[arg(long)]
    source: String,
    /// The IPv4 address it goes to.
    #[arg(long)]
    destination: String,
}

pub fn record(r: pb::CheckReachabilityResponse) -> Record {
    Record::new()
        .with("reachable", r.reachable)
        .with("hops", r.hops)
        .with("failed_hop", r.failed_hop)
        .with("reason", r.reason)
}

impl Reachability {
    pub async fn run(self) -> Result<(), Failure> {
        let request = pb::CheckReachabilityRequest { source_id: self.source, destination_ip: self.destination };
        let answer = self.client.api()?.vpcs.check_reachability(request).await?.into_inner();
        output::all_fields(self.client.format(), &record(answer));
        Ok(())
    }
}
