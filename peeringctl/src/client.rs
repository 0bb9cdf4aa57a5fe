//! Calling a running service: the flags every client command shares, a signed channel, and what a failed
//! call tells the user.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use shared::api::v1 as pb;
use shared::api::v1::billing_service_client::BillingServiceClient;
use shared::api::v1::router_interface_service_client::RouterInterfaceServiceClient;
use shared::api::v1::vpc_service_client::VpcServiceClient;
use shared::auth::{AccessKey, Signed};
use shared::config::{ACCEPTOR_DEFAULTS, INITIATOR_DEFAULTS};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_types::StatusExt;

use crate::output::Format;

pub type Vpcs = VpcServiceClient<Signed<Channel>>;
pub type Ris = RouterInterfaceServiceClient<Signed<Channel>>;

/// Account A's and account B's services where `peeringctl up` starts them.
pub const A_ENDPOINT: &str = "http://127.0.0.1:50051";
pub const B_ENDPOINT: &str = "http://127.0.0.1:50052";

const CALLING: &str = "Calling the service";

/// Where to call and as whom; shared by every client command (and accepted after its verb).
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The service to call [env: PEERINGCTL_ENDPOINT] [default: http://127.0.0.1:50051, account A's;
    /// with --as-b or --account 1000000000000002, account B's http://127.0.0.1:50052].
    #[arg(long, global = true, help_heading = CALLING)]
    endpoint: Option<String>,
    /// The account whose development key signs the calls [env: PEERINGCTL_ACCOUNT] [default:
    /// 1000000000000001].
    #[arg(long, global = true, help_heading = CALLING)]
    account: Option<String>,
    /// Act as account B: its development key (1000000000000002) at its default endpoint
    /// http://127.0.0.1:50052, whatever the environment says; an explicit --endpoint still wins.
    #[arg(long = "as-b", global = true, help_heading = CALLING, conflicts_with = "account")]
    as_b: bool,
    /// Sign with this AccessKey (with --access-key-secret) instead of a development key.
    #[arg(long, env = "PEERING_ACCESS_KEY_ID", global = true, help_heading = CALLING, requires = "access_key_secret")]
    access_key_id: Option<String>,
    /// The AccessKey's secret.
    #[arg(long, env = "PEERING_ACCESS_KEY_SECRET", global = true, help_heading = CALLING, requires = "access_key_id", hide_env_values = true)]
    access_key_secret: Option<String>,
    /// The CA (PEM) to trust for an https:// endpoint, e.g. ca.pem from `peeringctl dev-certs`.
    #[arg(long, env = "PEERINGCTL_TLS_CA", global = true, help_heading = CALLING)]
    tls_ca: Option<PathBuf>,
    /// Print the result as JSON instead of a table.
    #[arg(long, global = true, help_heading = CALLING)]
    json: bool,
}

impl ClientArgs {
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { Format::Table }
    }

    /// The clients of the service these flags name, signing as they say. Precedence: a flag, then
    /// --as-b, then the environment, then account A's defaults. (The environment is read here rather
    /// than by clap so that --as-b can outrank it.)
    pub fn api(&self) -> Result<Api, Failure> {
        let from_env = |name: &str| if self.as_b { None } else { std::env::var(name).ok().filter(|v| !v.is_empty()) };
        let account = match (&self.account, self.as_b) {
            (Some(account), _) => account.clone(),
            (None, true) => ACCEPTOR_DEFAULTS.account_id.to_owned(),
            (None, false) => from_env("PEERINGCTL_ACCOUNT").unwrap_or_else(|| INITIATOR_DEFAULTS.account_id.to_owned()),
        };
        let endpoint = self.endpoint.clone().or_else(|| from_env("PEERINGCTL_ENDPOINT")).unwrap_or_else(|| {
            if account == ACCEPTOR_DEFAULTS.account_id { B_ENDPOINT } else { A_ENDPOINT }.to_owned()
        });
        let given = self
            .access_key_id
            .clone()
            .zip(self.access_key_secret.clone())
            .map(|(access_key_id, access_key_secret)| AccessKey { access_key_id, access_key_secret });
        Api::connect(&endpoint, crate::sign::key(&account, false, given), self.tls_ca.as_deref())
    }
}

/// The three services of one account, every call signed with one key.
#[derive(Debug, Clone)]
pub struct Api {
    pub vpcs: Vpcs,
    pub ris: Ris,
    pub billing: BillingServiceClient<Signed<Channel>>,
}

impl Api {
    /// Clients of the service at `endpoint`. The channel connects on the first call, so an unreachable
    /// service shows as that call's UNAVAILABLE, like any other refusal.
    pub fn connect(endpoint: &str, key: AccessKey, tls_ca: Option<&Path>) -> Result<Self, Failure> {
        let usage = |e: &dyn std::fmt::Display| Failure::Usage(format!("endpoint {endpoint:?}: {e}"));
        let mut channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| usage(&e))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        if endpoint.starts_with("https://") {
            let ca = tls_ca.ok_or_else(|| usage(&"an https:// endpoint needs --tls-ca (the CA that signed it)"))?;
            let pem = std::fs::read(ca).map_err(|e| Failure::Usage(format!("--tls-ca {}: {e}", ca.display())))?;
            channel = channel
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
                .map_err(|e| usage(&e))?;
        } else if !endpoint.starts_with("http://") {
            return Err(usage(&"expected http://HOST:PORT or https://HOST:PORT"));
        }
        let channel = Signed::new(channel.connect_lazy(), key);
        Ok(Self {
            vpcs: VpcServiceClient::new(channel.clone()),
            ris: RouterInterfaceServiceClient::new(channel.clone()),
            billing: BillingServiceClient::new(channel),
        })
    }
}

/// One router interface, as DescribeRouterInterfaceAttribute shows it.
pub async fn describe(ris: &mut Ris, id: &str) -> Result<pb::RouterInterface, Failure> {
    let request = pb::DescribeRouterInterfaceAttributeRequest { router_interface_id: id.to_owned() };
    ris.describe_router_interface_attribute(request)
        .await?
        .into_inner()
        .router_interface
        .ok_or_else(|| Failure::Other(format!("the service described {id} without its attributes")))
}

/// A Describe request that pages, and where its answer keeps a page's items.
pub trait Paged: Sized {
    type Answer;
    type Item;
    /// This request for page `number` (1-based), as large as pages go.
    fn page(&self, number: i32) -> Self;
    /// A page's items, and how many there are in all.
    fn items(answer: Self::Answer) -> (Vec<Self::Item>, i32);
}

macro_rules! paged {
    ($($request:ident => $answer:ident.$items:ident: $item:ident),* $(,)?) => {$(
        impl Paged for pb::$request {
            type Answer = pb::$answer;
            type Item = pb::$item;
            fn page(&self, page_number: i32) -> Self {
                Self { page_number, page_size: PAGE_SIZE, ..self.clone() }
            }
            fn items(answer: pb::$answer) -> (Vec<pb::$item>, i32) {
                (answer.$items, answer.total_count)
            }
        }
    )*};
}

paged!(
    DescribeVpcsRequest => DescribeVpcsResponse.vpcs: Vpc,
    DescribeVirtualBorderRoutersRequest => DescribeVirtualBorderRoutersResponse.virtual_border_routers: VirtualBorderRouter,
    DescribeRouteEntryListRequest => DescribeRouteEntryListResponse.route_entries: RouteEntry,
    DescribeRouterInterfacesRequest => DescribeRouterInterfacesResponse.router_interfaces: RouterInterface,
);

/// Every item `request` matches, page after page: `call` makes the Describe call with a client of its
/// own (each page's future owns one).
pub async fn all_pages<R, C, F>(client: &C, request: R, call: F) -> Result<Vec<R::Item>, Failure>
where
    R: Paged,
    C: Clone,
    F: AsyncFn(C, R) -> Result<tonic::Response<R::Answer>, tonic::Status>,
{
    let mut all = Vec::new();
    let mut number = 1;
    loop {
        let (items, total) = R::items(call(client.clone(), request.page(number)).await?.into_inner());
        let done = items.is_empty() || all.len() + items.len() >= usize::try_from(total).unwrap_or(0);
        all.extend(items);
        if done {
            return Ok(all);
        }
        number += 1;
    }
}

/// The largest page the API serves, so that listing everything takes few calls.
const PAGE_SIZE: i32 = 50;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The command line cannot work as given, before any call (exit code 2, as clap's own errors).
    Usage(String),
    /// The service refused the call or could not be reached.
    Call(tonic::Status),
    /// Anything else: a transition that did not finish, an answer that makes no sense.
    Other(String),
    /// A failure while doing something the user should hear about (a step of the demo).
    During(String, Box<Failure>),
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        Failure::Call(status)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Other(message) => f.write_str(message),
            Failure::During(what, failure) => write!(f, "{what} failed: {failure}"),
            Failure::Call(status) => {
                write!(f, "{}", code_name(status.code()))?;
                let info = status.get_details_error_info();
                let reason = info.as_ref().map(|i| i.reason.as_str()).filter(|r| !r.is_empty());
                if let Some(reason) = reason {
                    write!(f, " {reason}")?;
                }
                if let Some(field) = info.as_ref().and_then(|i| i.metadata.get("field")) {
                    write!(f, " (field {field})")?;
                }
                // The service's message starts with the reason already; say it once.
                let message = reason
                    .and_then(|r| status.message().strip_prefix(r))
                    .map_or(status.message(), |rest| rest.trim_start_matches(':').trim_start());
                write!(f, ": {message}")
            }
        }
    }
}

impl Failure {
    /// What to try next, for the failures a user can do something about.
    pub fn hint(&self) -> Option<&'static str> {
        let status = match self {
            Failure::Call(status) => status,
            Failure::During(_, failure) => return failure.hint(),
            Failure::Usage(_) | Failure::Other(_) => return None,
        };
        let reason = status.get_details_error_info().map(|i| i.reason).unwrap_or_default();
        Some(match (status.code(), reason.as_str()) {
            (Code::Unauthenticated, _) => {
                "check --account / --as-b or the AccessKey, or start the services with `peeringctl up` (development keys)"
            }
            (Code::PermissionDenied, _) => "this key may not make this call: check --account / --as-b",
            (Code::Unavailable, "ServiceUnavailable") => {
                "nothing changed: the change could not be stored or the other account's service is not reachable; retry"
            }
            (Code::Unavailable, _) => "is the service running at that endpoint? start both with `peeringctl up`",
            (Code::ResourceExhausted, "QuotaExceeded") => "at most 5 router interfaces per router",
            (Code::ResourceExhausted, _) => "the service is at capacity: retry with backoff",
            (Code::FailedPrecondition, "IncorrectStatus" | "IncorrectRIStatus") => {
                "connect needs Idle, suspend Activated, activate Suspended, upgrade Activated, delete Idle or \
                 Suspended: see `peeringctl ri describe ID`"
            }
            (Code::FailedPrecondition, r) if r.starts_with("IncorrectOppositeInterfaceInfo") => {
                "point the ends at each other first: `peeringctl ri modify ID --opposite-interface ...`"
            }
            (Code::FailedPrecondition, r) if r.starts_with("DependencyViolation") => {
                "delete in the seed's order: route entries, then router interfaces, then VPCs and VBRs"
            }
            (Code::FailedPrecondition, "Forbidden.BillsOutstanding" | "Forbidden.FinancialLocked") => {
                "the account is overdue: renew the subscription or top the balance up"
            }
            _ => return None,
        })
    }

    /// Within `what` (said when it fails).
    pub fn during(self, what: impl Into<String>) -> Self {
        Failure::During(what.into(), Box::new(self))
    }

    fn is_usage(&self) -> bool {
        match self {
            Failure::Usage(_) => true,
            Failure::During(_, failure) => failure.is_usage(),
            Failure::Call(_) | Failure::Other(_) => false,
        }
    }

    /// Prints the failure (and a hint) on stderr and gives the exit code: 2 for usage, else 1.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {self}");
        if let Some(hint) = self.hint() {
            eprintln!("hint: {hint}");
        }
        ExitCode::from(if self.is_usage() { 2 } else { 1 })
    }
}

/// A gRPC code as the gRPC spec spells it: `InvalidArgument` is INVALID_ARGUMENT.
fn code_name(code: Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// The exit code of a command's result, reporting a failure.
pub fn finish(result: Result<(), Failure>) -> ExitCode {
    result.map_or_else(|failure| failure.report(), |()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_the_grpc_spec() {
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::Ok), "OK");
        assert_eq!(code_name(Code::Unavailable), "UNAVAILABLE");
    }

    #[test]
    fn a_refusal_names_code_reason_and_field_once() {
        let details = tonic_types::ErrorDetails::with_error_info(
            "InvalidCidrBlock.Malformed",
            "expressconnect.emulator",
            [("field".to_owned(), "cidr_block".to_owned())],
        );
        let status = tonic::Status::with_error_details(
            Code::InvalidArgument,
            "InvalidCidrBlock.Malformed: \"x\" is not a CIDR block",
            details,
        );
        let failure = Failure::from(status);
        assert_eq!(
            failure.to_string(),
            "INVALID_ARGUMENT InvalidCidrBlock.Malformed (field cidr_block): \"x\" is not a CIDR block"
        );
        assert_eq!(failure.hint(), None);
        assert!(
            Failure::from(tonic::Status::unavailable("tcp connect error")).hint().is_some_and(|h| h.contains("up"))
        );
    }
}
