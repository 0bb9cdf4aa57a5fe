//! `expressconnect.v1.BillingService`.

use tonic::{Request, Response, Status};

use super::convert::{self, decode, int32, time};
use super::{change, query};
use crate::account::{Account, OrderFilter, PageRequest, Renewal};
use crate::api::v1::{self as pb, billing_service_server::BillingService};
use crate::domain::billing::{Order, OrderType};
use crate::domain::prices::Money;

#[derive(Debug, Clone)]
pub struct BillingApi {
    account: Account,
}

impl BillingApi {
    pub fn new(account: Account) -> Self {
        Self { account }
    }
}

fn order_type(p: pb::OrderType) -> Option<OrderType> {
    match p {
        pb::OrderType::Unspecified => None,
        pb::OrderType::Buy => Some(OrderType::Buy),
        pb::OrderType::Renew => Some(OrderType::Renew),
        pb::OrderType::AutoRenew => Some(OrderType::AutoRenew),
        pb::OrderType::Upgrade => Some(OrderType::Upgrade),
        pb::OrderType::Downgrade => Some(OrderType::Downgrade),
        pb::OrderType::Usage => Some(OrderType::Usage),
    }
}

fn order_type_to_pb(t: OrderType) -> pb::OrderType {
    match t {
        OrderType::Buy => pb::OrderType::Buy,
        OrderType::Renew => pb::OrderType::Renew,
        OrderType::AutoRenew => pb::OrderType::AutoRenew,
        OrderType::Upgrade => pb::OrderType::Upgrade,
        OrderType::Downgrade => pb::OrderType::Downgrade,
        OrderType::Usage => pb::OrderType::Usage,
    }
}

fn order_to_pb(o: Order, currency: &str) -> pb::Order {
    pb::Order {
        order_id: o.order_id,
        router_interface_id: o.router_interface_id,
        order_type: order_type_to_pb(o.order_type).into(),
        spec: o.spec,
        instance_charge_type: convert::charge_type_to_pb(o.charge_type).into(),
        pricing_cycle: convert::pricing_cycle_to_pb(o.pricing_cycle).into(),
        period: int32(o.period),
        amount: o.amount.to_string(),
        currency: currency.to_owned(),
        create_time: time(o.create_time),
        start_time: time(o.start_time),
        end_time: time(o.end_time),
        balance_after: o.balance_after.to_string(),
    }
}

#[tonic::async_trait]
impl BillingService for BillingApi {
    async fn renew_instance(
        &self,
        request: Request<pb::RenewInstanceRequest>,
    ) -> Result<Response<pb::RenewInstanceResponse>, Status> {
        let r = request.into_inner();
        let renewed = change(&self.account, move |a| {
            let renewal = Renewal {
                router_interface_id: r.router_interface_id,
                pricing_cycle: decode("pricing_cycle", r.pricing_cycle, convert::pricing_cycle)?,
                period: r.period,
                spec: r.spec,
            };
            a.renew_instance(renewal, &r.client_token)
        })
        .await?;
        Ok(Response::new(pb::RenewInstanceResponse { order_id: renewed.order_id, end_time: time(renewed.end_time) }))
    }

    async fn describe_orders(
        &self,
        request: Request<pb::DescribeOrdersRequest>,
    ) -> Result<Response<pb::DescribeOrdersResponse>, Status> {
        let r = request.into_inner();
        let page = query(&self.account, move |a| {
            let filter = OrderFilter {
                router_interface_id: r.router_interface_id,
                order_type: decode("order_type", r.order_type, order_type)?,
            };
            a.orders(&filter, PageRequest::new(r.page_number, r.page_size)?)
        })
        .await?;
        let currency = self.account.currency();
        Ok(Response::new(pb::DescribeOrdersResponse {
            orders: page.items.into_iter().map(|o| order_to_pb(o, currency)).collect(),
            total_count: int32(page.total_count),
            page_number: int32(page.number),
            page_size: int32(page.size),
        }))
    }

    async fn describe_account_balance(
        &self,
        _request: Request<pb::DescribeAccountBalanceRequest>,
    ) -> Result<Response<pb::DescribeAccountBalanceResponse>, Status> {
        let balance = query(&self.account, |a| Ok(a.balance())).await?;
        Ok(Response::new(pb::DescribeAccountBalanceResponse {
            available_amount: balance.available.to_string(),
            currency: balance.currency,
            overdue: balance.overdue_since.is_some(),
            overdue_since: convert::optional_time(balance.overdue_since),
        }))
    }

    async fn top_up_account(
        &self,
        request: Request<pb::TopUpAccountRequest>,
    ) -> Result<Response<pb::TopUpAccountResponse>, Status> {
        let r = request.into_inner();
        let balance: Money = change(&self.account, move |a| a.top_up(&r.amount, &r.client_token)).await?;
        Ok(Response::new(pb::TopUpAccountResponse { available_amount: balance.to_string() }))
    }
}
