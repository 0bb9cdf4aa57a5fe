//! `peeringctl watch`: every change of the account's ends as it happens, until Ctrl-C.

use clap::Args;
use shared::api::v1 as pb;

use crate::client::{ClientArgs, Failure};
use crate::commands::ri;
use crate::output::{self, Format, say};

#[derive(Debug, Args)]
pub struct Watch {
    #[command(flatten)]
    client: ClientArgs,
    /// Only these ends (ri-…); none means every end of the account.
    ids: Vec<String>,
}

/// One event as a line: when it arrived, the end, its status and its view of the other end.
fn line(event: &pb::RouterInterfaceEvent, ri: &pb::RouterInterface) -> String {
    format!(
        "{}  {}  {:<9} {:<10}  opposite {} {}{}",
        chrono::Local::now().format("%H:%M:%S%.3f"),
        ri.router_interface_id,
        output::role(ri.role()),
        output::label(ri.status()),
        if ri.opposite_interface_id.is_empty() { "-" } else { &ri.opposite_interface_id },
        output::label(ri.opposite_interface_status()),
        if event.deleted { "  (deleted)" } else { "" }
    )
}

impl Watch {
    pub async fn run(self) -> Result<(), Failure> {
        let format = self.client.format();
        let request = pb::WatchRouterInterfacesRequest { router_interface_ids: self.ids, include_current: true };
        let mut stream = self.client.api()?.ris.watch_router_interfaces(request).await?.into_inner();
        loop {
            let event = tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                event = stream.message() => event?,
            };
            let Some(event) = event else {
                return Err(Failure::Other("the service ended the watch (is it shutting down?)".to_owned()));
            };
            let Some(ri) = &event.router_interface else { continue };
            match format {
                Format::Table => say!("{}", line(&event, ri)),
                Format::Json => say!("{}", ri::record(ri).with("deleted", event.deleted).json()),
            }
        }
    }
}
