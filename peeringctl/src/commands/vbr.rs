//! `peeringctl vbr`: create, list and delete the account's Virtual Border Routers.

use clap::Subcommand;
use shared::api::v1 as pb;

use super::{Naming, described};
use crate::client::{ClientArgs, Failure, all_pages};
use crate::output::{self, Record};

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Create a VBR at an access point (see the README's catalogue).
    Create {
        /// The region, e.g. cn-hangzhou.
        #[arg(long)]
        region: String,
        /// An access point of the region, e.g. ap-cn-hangzhou-yh-B.
        #[arg(long)]
        access_point: String,
        #[command(flatten)]
        naming: Naming,
    },
    /// List the account's VBRs.
    List {
        /// Only this region's.
        #[arg(long)]
        region: Option<String>,
    },
    /// Delete a VBR (refused while router interfaces or custom route entries use it).
    Delete {
        /// The VBR (vbr-…).
        id: String,
    },
}

const COLUMNS: [&str; 5] = ["id", "region", "access_point", "route_table", "name"];

fn record(v: pb::VirtualBorderRouter) -> Record {
    let own = Record::new()
        .with("id", v.vbr_id)
        .with("region", v.region_id)
        .with("access_point", v.access_point_id)
        .with("route_table", v.route_table_id);
    described(own, (v.name, v.description), v.owner_id, v.creation_time)
}

impl Verb {
    pub async fn run(self, client: ClientArgs) -> Result<(), Failure> {
        let format = client.format();
        let mut vpcs = client.api()?.vpcs;
        match self {
            Verb::Create { region, access_point, naming } => {
                let (name, description) = naming.unpack();
                let request = pb::CreateVirtualBorderRouterRequest {
                    region_id: region,
                    access_point_id: access_point,
                    name,
                    description,
                    ..Default::default()
                };
                let id = vpcs.create_virtual_border_router(request).await?.into_inner().vbr_id;
                output::one(format, &["id"], &Record::new().with("id", id));
            }
            Verb::List { region } => {
                let request = pb::DescribeVirtualBorderRoutersRequest {
                    region_id: region.unwrap_or_default(),
                    ..Default::default()
                };
                let all = all_pages(&vpcs, request, async |mut vpcs, r| vpcs.describe_virtual_border_routers(r).await)
                    .await?;
                output::list(format, &COLUMNS, &all.into_iter().map(record).collect::<Vec<_>>());
            }
            Verb::Delete { id } => {
                let request = pb::DeleteVirtualBorderRouterRequest { vbr_id: id.clone(), ..Default::default() };
                vpcs.delete_virtual_border_router(request).await?;
                output::done(format, "deleted", &id);
            }
        }
        Ok(())
    }
}
