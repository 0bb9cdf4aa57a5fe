//! `expressconnect.v1.SimulationService`: the operator's billing clock.

use tonic::{Request, Response, Status};

use super::convert::{int32, optional_time, time};
use super::{change, query};
use crate::account::Account;
use crate::api::v1::{self as pb, simulation_service_server::SimulationService};
use crate::domain::DomainError;

#[derive(Debug, Clone)]
pub struct SimulationApi {
    account: Account,
}

impl SimulationApi {
    pub fn new(account: Account) -> Self {
        Self { account }
    }
}

fn duration_to_pb(d: chrono::Duration) -> prost_types::Duration {
    prost_types::Duration { seconds: d.num_seconds(), nanos: d.subsec_nanos() }
}

#[tonic::async_trait]
impl SimulationService for SimulationApi {
    async fn get_clock(
        &self,
        _request: Request<pb::GetClockRequest>,
    ) -> Result<Response<pb::GetClockResponse>, Status> {
        let clock = query(&self.account, |a| Ok(a.clock())).await?;
        Ok(Response::new(pb::GetClockResponse {
            now: time(clock.now),
            offset: Some(duration_to_pb(clock.offset)),
            next_event_time: optional_time(clock.next_event),
        }))
    }

    async fn advance_clock(
        &self,
        request: Request<pb::AdvanceClockRequest>,
    ) -> Result<Response<pb::AdvanceClockResponse>, Status> {
        let r = request.into_inner();
        let by = r.by.ok_or_else(|| super::to_status(DomainError::missing("by")))?;
        let by = chrono::TimeDelta::try_seconds(by.seconds)
            .map(|d| d + chrono::TimeDelta::nanoseconds(i64::from(by.nanos)))
            .ok_or_else(|| super::to_status(DomainError::invalid("by", "InvalidParameter", "by is out of range")))?;
        let advanced = change(&self.account, move |a| a.advance_clock(by, &r.client_token)).await?;
        Ok(Response::new(pb::AdvanceClockResponse {
            now: time(advanced.now),
            events_fired: int32(advanced.events_fired),
        }))
    }
}
