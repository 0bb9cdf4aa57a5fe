//! `peeringctl route`: custom route entries of a VPC's or VBR's route table, towards router interfaces.

use clap::Subcommand;
use shared::api::v1 as pb;

use crate::client::{ClientArgs, Failure, all_pages};
use crate::output::{self, Record};

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Send a destination through a router interface of the table's router.
    Create {
        /// The route table (vtb-…), as `vpc list` shows it.
        #[arg(long)]
        table: String,
        /// The destination CIDR block, e.g. 192.168.0.0/16 (not inside the VPC's own block).
        #[arg(long)]
        destination: String,
        /// The router interface (ri-…) the traffic leaves through.
        #[arg(long)]
        next_hop: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List a route table's entries, the system entry included.
    List {
        #[arg(long)]
        table: String,
    },
    /// Delete a custom entry: by its id, or by --table and --destination.
    Delete {
        /// The entry's id.
        #[arg(required_unless_present = "table", conflicts_with = "table")]
        id: Option<String>,
        #[arg(long, requires = "destination")]
        table: Option<String>,
        #[arg(long, requires = "table")]
        destination: Option<String>,
    },
}

const COLUMNS: [&str; 5] = ["id", "destination", "type", "next_hop", "name"];

fn record(e: pb::RouteEntry) -> Record {
    let kind = match e.r#type() {
        pb::RouteEntryType::System => "System",
        pb::RouteEntryType::Custom => "Custom",
        pb::RouteEntryType::Unspecified => "",
    };
    let next_hop = match e.next_hop_type() {
        pb::NextHopType::Local => "local".to_owned(),
        _ => e.next_hop_id,
    };
    Record::new()
        .with("id", e.route_entry_id)
        .with("destination", e.destination_cidr_block)
        .with("type", kind)
        .with("next_hop", next_hop)
        .with("name", e.route_entry_name)
        .with("route_table", e.route_table_id)
        .with("creation_time", e.creation_time)
}

impl Verb {
    pub async fn run(self, client: ClientArgs) -> Result<(), Failure> {
        let format = client.format();
        let mut vpcs = client.api()?.vpcs;
        match self {
            Verb::Create { table, destination, next_hop, name } => {
                let request = pb::CreateRouteEntryRequest {
                    route_table_id: table,
                    destination_cidr_block: destination,
                    next_hop_type: pb::NextHopType::RouterInterface as i32,
                    next_hop_id: next_hop,
                    route_entry_name: name.unwrap_or_default(),
                    ..Default::default()
                };
                let id = vpcs.create_route_entry(request).await?.into_inner().route_entry_id;
                output::one(format, &["id"], &Record::new().with("id", id));
            }
            Verb::List { table } => {
                let request = pb::DescribeRouteEntryListRequest { route_table_id: table, ..Default::default() };
                let all =
                    all_pages(&vpcs, request, async |mut vpcs, r| vpcs.describe_route_entry_list(r).await).await?;
                output::list(format, &COLUMNS, &all.into_iter().map(record).collect::<Vec<_>>());
            }
            Verb::Delete { id, table, destination } => {
                let what = id.clone().unwrap_or_else(|| {
                    format!("{} in {}", destination.as_deref().unwrap_or(""), table.as_deref().unwrap_or(""))
                });
                let request = pb::DeleteRouteEntryRequest {
                    route_entry_id: id.unwrap_or_default(),
                    route_table_id: table.unwrap_or_default(),
                    destination_cidr_block: destination.unwrap_or_default(),
                    ..Default::default()
                };
                vpcs.delete_route_entry(request).await?;
                output::done(format, "deleted", &what);
            }
        }
        Ok(())
    }
}
