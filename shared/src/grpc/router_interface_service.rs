//! `expressconnect.v1.RouterInterfaceService`.

use std::collections::HashMap;
use std::time::Duration;

use std::sync::Arc;

use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::convert::{self, decode, int32, router_interface_to_pb, status_to_pb};
use super::{change, query};
use crate::account::{Account, Event, ModifyAttributes, PageRequest, RouterInterfaceFilter};
use crate::api::v1::{self as pb, router_interface_service_server::RouterInterfaceService};
use crate::domain::rules::{NewRouterInterface, PeeringForm};
use crate::domain::{DomainError, DomainResult, ids};

#[derive(Debug, Clone)]
pub struct RouterInterfaceApi {
    account: Account,
    /// How long Connect, Deactivate and Activate wait for the other end before answering with a
    /// transitional status.
    settle_wait: Duration,
    /// One permit per open watch stream.
    watches: Arc<Semaphore>,
}

impl RouterInterfaceApi {
    pub fn new(account: Account, settle_wait: Duration, max_watch_streams: usize) -> Self {
        Self { account, settle_wait, watches: Arc::new(Semaphore::new(max_watch_streams)) }
    }

    /// Runs a connection change, then waits (up to `settle_wait`) for the other end to follow.
    async fn change_and_settle<F>(&self, id: String, transition: F) -> Result<pb::Status, Status>
    where
        F: FnOnce(&Account, &str) -> DomainResult<crate::domain::model::Status> + Send + 'static,
    {
        on_end(&id);
        let events = self.account.subscribe();
        let changed_id = id.clone();
        change(&self.account, move |a| transition(a, &changed_id)).await?;
        let status = self.account.settle(&id, events, self.settle_wait).await.map_err(super::to_status)?;
        tracing::info!(?status, "answered");
        Ok(status_to_pb(status))
    }
}

/// Names the end a call is about in the call's span (opened by the metrics layer), so its log lines say.
fn on_end(id: &str) {
    tracing::Span::current().record("router_interface_id", id);
}

fn new_router_interface(r: pb::CreateRouterInterfaceRequest) -> DomainResult<NewRouterInterface> {
    Ok(NewRouterInterface {
        region_id: r.region_id,
        role: decode("role", r.role, convert::role)?,
        router_type: decode("router_type", r.router_type, convert::router_type)?,
        router_id: r.router_id,
        spec: r.spec,
        opposite_region_id: r.opposite_region_id,
        opposite_router_id: r.opposite_router_id,
        opposite_router_type: decode("opposite_router_type", r.opposite_router_type, convert::router_type)?,
        opposite_interface_id: r.opposite_interface_id,
        opposite_interface_owner_id: r.opposite_interface_owner_id,
        access_point_id: r.access_point_id,
        opposite_access_point_id: r.opposite_access_point_id,
        name: r.name,
        description: r.description,
        charge_type: decode("instance_charge_type", r.instance_charge_type, convert::charge_type)?,
        pricing_cycle: decode("pricing_cycle", r.pricing_cycle, convert::pricing_cycle)?,
        period: r.period,
        auto_pay: r.auto_pay,
        auto_renew: r.auto_renew,
        health_check_source_ip: r.health_check_source_ip,
        health_check_target_ip: r.health_check_target_ip,
    })
}

fn peering_form(r: pb::CreatePeeringConnectionRequest) -> DomainResult<PeeringForm> {
    Ok(PeeringForm {
        account_type: decode("account_type", r.account_type, convert::account_type)?,
        connection_type: decode("connection_type", r.connection_type, convert::connection_type)?,
        routers_to_create: decode("routers_to_create", r.routers_to_create, convert::routers_to_create)?,
        local_region_id: r.local_region_id,
        local_router_id: r.local_router_id,
        peer_region_id: r.peer_region_id,
        peer_router_id: r.peer_router_id,
        peer_account_id: r.peer_account_id,
        peer_interface_id: r.peer_interface_id,
        bandwidth: r.bandwidth,
        charge_type: decode("instance_charge_type", r.instance_charge_type, convert::charge_type)?,
        pricing_cycle: decode("pricing_cycle", r.pricing_cycle, convert::pricing_cycle)?,
        period: r.period,
        auto_renew: r.auto_renew,
        name: r.name,
        description: r.description,
    })
}

fn modify_attributes(r: pb::ModifyRouterInterfaceAttributeRequest) -> DomainResult<ModifyAttributes> {
    Ok(ModifyAttributes {
        router_interface_id: r.router_interface_id,
        name: r.name,
        description: r.description,
        opposite_interface_id: r.opposite_interface_id,
        opposite_router_id: r.opposite_router_id,
        opposite_router_type: decode("opposite_router_type", r.opposite_router_type, convert::router_type)?,
        opposite_interface_owner_id: r.opposite_interface_owner_id,
        health_check_source_ip: r.health_check_source_ip,
        health_check_target_ip: r.health_check_target_ip,
        delete_health_check: r.delete_health_check,
    })
}

fn filter(r: &pb::DescribeRouterInterfacesRequest) -> DomainResult<RouterInterfaceFilter> {
    Ok(RouterInterfaceFilter {
        ids: r.router_interface_ids.clone(),
        status: decode("status", r.status, convert::status)?,
        role: decode("role", r.role, convert::role)?,
        router_id: r.router_id.clone(),
        region_id: r.region_id.clone(),
    })
}

#[tonic::async_trait]
impl RouterInterfaceService for RouterInterfaceApi {
    async fn create_router_interface(
        &self,
        request: Request<pb::CreateRouterInterfaceRequest>,
    ) -> Result<Response<pb::CreateRouterInterfaceResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token.clone();
        let router_interface_id =
            change(&self.account, move |a| a.create_router_interface(new_router_interface(r)?, &token)).await?;
        on_end(&router_interface_id);
        Ok(Response::new(pb::CreateRouterInterfaceResponse { router_interface_id }))
    }

    async fn create_peering_connection(
        &self,
        request: Request<pb::CreatePeeringConnectionRequest>,
    ) -> Result<Response<pb::CreatePeeringConnectionResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token.clone();
        let created = change(&self.account, move |a| a.create_peering_connection(peering_form(r)?, &token)).await?;
        Ok(Response::new(pb::CreatePeeringConnectionResponse {
            initiator_interface_id: created.initiator_interface_id,
            acceptor_interface_id: created.acceptor_interface_id,
        }))
    }

    async fn modify_router_interface_attribute(
        &self,
        request: Request<pb::ModifyRouterInterfaceAttributeRequest>,
    ) -> Result<Response<pb::ModifyRouterInterfaceAttributeResponse>, Status> {
        let r = request.into_inner();
        on_end(&r.router_interface_id);
        let token = r.client_token.clone();
        change(&self.account, move |a| a.modify_router_interface_attribute(modify_attributes(r)?, &token)).await?;
        Ok(Response::new(pb::ModifyRouterInterfaceAttributeResponse {}))
    }

    async fn connect_router_interface(
        &self,
        request: Request<pb::ConnectRouterInterfaceRequest>,
    ) -> Result<Response<pb::ConnectRouterInterfaceResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token;
        let status =
            self.change_and_settle(r.router_interface_id, move |a, id| a.connect_router_interface(id, &token)).await?;
        Ok(Response::new(pb::ConnectRouterInterfaceResponse { status: status.into() }))
    }

    async fn deactivate_router_interface(
        &self,
        request: Request<pb::DeactivateRouterInterfaceRequest>,
    ) -> Result<Response<pb::DeactivateRouterInterfaceResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token;
        let status = self
            .change_and_settle(r.router_interface_id, move |a, id| a.deactivate_router_interface(id, &token))
            .await?;
        Ok(Response::new(pb::DeactivateRouterInterfaceResponse { status: status.into() }))
    }

    async fn activate_router_interface(
        &self,
        request: Request<pb::ActivateRouterInterfaceRequest>,
    ) -> Result<Response<pb::ActivateRouterInterfaceResponse>, Status> {
        let r = request.into_inner();
        let token = r.client_token;
        let status =
            self.change_and_settle(r.router_interface_id, move |a, id| a.activate_router_interface(id, &token)).await?;
        Ok(Response::new(pb::ActivateRouterInterfaceResponse { status: status.into() }))
    }

    async fn modify_router_interface_spec(
        &self,
        request: Request<pb::ModifyRouterInterfaceSpecRequest>,
    ) -> Result<Response<pb::ModifyRouterInterfaceSpecResponse>, Status> {
        let r = request.into_inner();
        on_end(&r.router_interface_id);
        let changed = change(&self.account, move |a| {
            a.modify_router_interface_spec(&r.router_interface_id, &r.spec, &r.client_token)
        })
        .await?;
        Ok(Response::new(pb::ModifyRouterInterfaceSpecResponse {
            spec: changed.spec,
            bandwidth: int32(changed.bandwidth),
            order_id: changed.order_id,
        }))
    }

    async fn delete_router_interface(
        &self,
        request: Request<pb::DeleteRouterInterfaceRequest>,
    ) -> Result<Response<pb::DeleteRouterInterfaceResponse>, Status> {
        let r = request.into_inner();
        on_end(&r.router_interface_id);
        change(&self.account, move |a| a.delete_router_interface(&r.router_interface_id, &r.client_token)).await?;
        Ok(Response::new(pb::DeleteRouterInterfaceResponse {}))
    }

    async fn describe_router_interfaces(
        &self,
        request: Request<pb::DescribeRouterInterfacesRequest>,
    ) -> Result<Response<pb::DescribeRouterInterfacesResponse>, Status> {
        let r = request.into_inner();
        let page = query(&self.account, move |a| {
            a.describe_router_interfaces(&filter(&r)?, PageRequest::new(r.page_number, r.page_size)?)
        })
        .await?;
        Ok(Response::new(pb::DescribeRouterInterfacesResponse {
            router_interfaces: page.items.into_iter().map(router_interface_to_pb).collect(),
            total_count: int32(page.total_count),
            page_number: int32(page.number),
            page_size: int32(page.size),
        }))
    }

    async fn describe_router_interface_attribute(
        &self,
        request: Request<pb::DescribeRouterInterfaceAttributeRequest>,
    ) -> Result<Response<pb::DescribeRouterInterfaceAttributeResponse>, Status> {
        let r = request.into_inner();
        on_end(&r.router_interface_id);
        let ri = query(&self.account, move |a| a.describe_router_interface(&r.router_interface_id)).await?;
        Ok(Response::new(pb::DescribeRouterInterfaceAttributeResponse {
            router_interface: Some(router_interface_to_pb(ri)),
        }))
    }

    type WatchRouterInterfacesStream = ReceiverStream<Result<pb::RouterInterfaceEvent, Status>>;

    async fn watch_router_interfaces(
        &self,
        request: Request<pb::WatchRouterInterfacesRequest>,
    ) -> Result<Response<Self::WatchRouterInterfacesStream>, Status> {
        let r = request.into_inner();
        ids::parse_list("router_interface_ids", ids::ROUTER_INTERFACE, &r.router_interface_ids)
            .map_err(super::to_status)?;
        let permit = self.watches.clone().try_acquire_owned().map_err(|_| {
            super::to_status(DomainError::exhausted(
                "Throttling",
                "too many WatchRouterInterfaces streams are open on this service; close one (--max-watch-streams)",
            ))
        })?;
        let mut events = self.account.subscribe();
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let watched = move |ri: &crate::domain::model::RouterInterface| {
            r.router_interface_ids.is_empty() || r.router_interface_ids.contains(&ri.router_interface_id)
        };
        let current = if r.include_current {
            let filter = RouterInterfaceFilter::default();
            let all = query(&self.account, move |a| a.router_interfaces_matching(&filter)).await?;
            all.into_iter().filter(|ri| watched(ri)).collect()
        } else {
            Vec::new()
        };
        // Events older than what the watcher is first shown are not sent: the end would seem to go back.
        let shown: HashMap<String, u64> =
            current.iter().map(|ri| (ri.router_interface_id.clone(), ri.version)).collect();
        let account = self.account.clone();
        let feeding = async move {
            // Held as long as the stream is fed.
            let _permit = permit;
            for ri in current {
                let event =
                    pb::RouterInterfaceEvent { router_interface: Some(router_interface_to_pb(ri)), deleted: false };
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            loop {
                let received = tokio::select! {
                    () = tx.closed() => return,
                    event = events.recv() => event,
                };
                let event = match received {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        let _ = tx
                            .send(Err(Status::aborted(format!(
                                "the watch fell {missed} changes behind; open it again with include_current"
                            ))))
                            .await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let ri = event.router_interface();
                if !watched(ri) || shown.get(&ri.router_interface_id).is_some_and(|&seen| event.predates(seen)) {
                    continue;
                }
                let deleted = matches!(event, Event::Deleted(_));
                let event =
                    pb::RouterInterfaceEvent { router_interface: Some(router_interface_to_pb(ri.clone())), deleted };
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        };
        // At shutdown the watch ends, so that the server can drain.
        tokio::spawn(async move {
            tokio::select! {
                () = account.stopping() => {}
                () = feeding => {}
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Events a watcher may have in flight before the sender waits for it.
const WATCH_BUFFER: usize = 256;
