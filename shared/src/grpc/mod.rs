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
pub(crate) use status::refuse;
pub use status::to_status;
pub use vpc_service::VpcApi;

use crate::account::{Account, DomainResult};

/// Runs a public call that changes state: in one of the account's write slots (or RESOURCE_EXHAUSTED at
/// once), answered once what it saw is on disk.
async fn change<T, F>(account: &Account, call: F) -> Result<T, tonic::Status>
where
    T: Send + 'static,
    F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
{
    in_slot(account, account.slots().write(), call).await
}

/// Runs a public read in one of the account's read slots.
async fn query<T, F>(account: &Account, call: F) -> Result<T, tonic::Status>
where
    T: Send + 'static,
    F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
{
    in_slot(account, account.slots().read(), call).await
}

async fn in_slot<T, F>(
    account: &Account,
    slot: DomainResult<tokio::sync::OwnedSemaphorePermit>,
    call: F,
) -> Result<T, tonic::Status>
where
    T: Send + 'static,
    F: FnOnce(&Account) -> DomainResult<T> + Send + 'static,
{
    let slot = slot.map_err(to_status)?;
    let answer = account.call(call).await.map_err(to_status);
    drop(slot);
    answer
}
