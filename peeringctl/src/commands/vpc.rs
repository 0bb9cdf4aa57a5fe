//! `peeringctl vpc`: create, list and delete the account's VPCs.

use clap::Subcommand;
use shared::api::v1 as pb;

use super::{Naming, described};
use crate::client::{ClientArgs, Failure, all_pages};
use crate::output::{self, Record};

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Create a VPC, with its vRouter (vrt-…) and route table (vtb-…).
    Create {
        /// The region, e.g. cn-hangzhou.
        #[arg(long)]
        region: String,
        /// Its IPv4 CIDR block, prefix 8 to 28, e.g. 10.0.0.0/16.
        #[arg(long)]
        cidr: String,
        #[command(flatten)]
        naming: Naming,
    },
    /// List the account's VPCs.
    List {
        /// Only this region's.
        #[arg(long)]
        region: Option<String>,
    },
    /// Delete a VPC (refused while router interfaces or custom route entries use it).
    Delete {
        /// The VPC (vpc-…).
        id: String,
    },
}

const COLUMNS: [&str; 6] = ["id", "region", "cidr_block", "vrouter", "route_table", "name"];

fn record(v: pb::Vpc) -> Record {
    let own = Record::new()
        .with("id", v.vpc_id)
        .with("region", v.region_id)
        .with("cidr_block", v.cidr_block)
        .with("vrouter", v.vrouter_id)
        .with("route_table", v.route_table_id);
    described(own, (v.vpc_name, v.description), v.owner_id, v.creation_time)
}

impl Verb {
    pub async fn run(self, client: ClientArgs) -> Result<(), Failure> {
        let format = client.format();
        let mut vpcs = client.api()?.vpcs;
        match self {
            Verb::Create { region, cidr, naming } => {
                let (vpc_name, description) = naming.unpack();
                let request = pb::CreateVpcRequest {
                    region_id: region,
                    cidr_block: cidr,
                    vpc_name,
                    description,
                    ..Default::default()
                };
                let created = vpcs.create_vpc(request).await?.into_inner();
                let record = Record::new()
                    .with("id", created.vpc_id)
                    .with("vrouter", created.vrouter_id)
                    .with("route_table", created.route_table_id);
                output::one(format, &["id", "vrouter", "route_table"], &record);
            }
            Verb::List { region } => {
                let request = pb::DescribeVpcsRequest { region_id: region.unwrap_or_default(), ..Default::default() };
                let all = all_pages(&vpcs, request, async |mut vpcs, r| vpcs.describe_vpcs(r).await).await?;
                output::list(format, &COLUMNS, &all.into_iter().map(record).collect::<Vec<_>>());
            }
            Verb::Delete { id } => {
                vpcs.delete_vpc(pb::DeleteVpcRequest { vpc_id: id.clone(), ..Default::default() }).await?;
                output::done(format, "deleted", &id);
            }
        }
        Ok(())
    }
}
