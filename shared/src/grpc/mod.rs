//! The public gRPC API: converts requests into account calls and domain errors into `tonic::Status`.
//! The only place in the domain crate that knows tonic.

mod billing_service;
mod convert;
pub mod peer_convert;
mod router_interface_service;
mod simulation_service;
mod status;
mod vpc_service;

pub use billing_service::BillingApi;
pub use router_interface_service::RouterInterfaceApi;
pub use simulation_service::SimulationApi;
pub use status::to_status;
pub use vpc_service::VpcApi;

use crate::account::{Account, DomainResult};

/// Runs an account call off the async runtime (it may wait for the disk) and maps its error.
async fn blocking<T, F>(account: &Account, call: F) -> Result<T, tonic::Status>
where
    T: Send + 'static,
    F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
{
    account.call(call).await.map_err(to_status)
}
