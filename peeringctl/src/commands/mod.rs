//! The client commands, one module per noun: each parses its verbs and calls one account's service.

use clap::{Args, Subcommand};

use crate::client::ClientArgs;
use crate::output::Record;

pub mod reachability;
pub mod ri;
pub mod route;
pub mod vbr;
pub mod vpc;
pub mod watch;

/// A noun's verbs, and where to call and as whom (accepted before or after the verb).
#[derive(Debug, Args)]
pub struct Noun<V: Subcommand> {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub verb: V,
}

/// The name and description a VPC or a VBR may be given.
#[derive(Debug, Args)]
pub struct Naming {
    /// 2–128 characters, starting with a letter.
    #[arg(long)]
    name: Option<String>,
    /// 2–256 characters, not starting with http:// or https://.
    #[arg(long)]
    description: Option<String>,
}

impl Naming {
    /// (name, description), empty when not given.
    pub fn unpack(self) -> (String, String) {
        (self.name.unwrap_or_default(), self.description.unwrap_or_default())
    }
}

/// The fields a VPC and a VBR have after their own.
pub fn described(
    record: Record,
    (name, description): (String, String),
    owner: String,
    creation_time: String,
) -> Record {
    record.with("name", name).with("description", description).with("owner", owner).with("creation_time", creation_time)
}
