#!/usr/bin/env bash
# The docker-compose stack as a user runs it, checked end to end: the image builds without a registry, both
# services become healthy, the demo container passes, a restart of either service keeps every resource,
# and cutting the acceptor off the network and back ends with both sides in agreement.
# Usage: docker/check-compose.sh COMPOSE... (e.g. docker/check-compose.sh docker-compose -p peering-ci)
set -euo pipefail
cd "$(dirname "$0")/.."
compose=("$@")
project=${compose[-1]}
export INITIATOR_PORT=55051 ACCEPTOR_PORT=55052
A=127.0.0.1:55051
B=127.0.0.1:55052
ACCOUNT_A=1000000000000001
ACCOUNT_B=1000000000000002
peeringctl=target/release/peeringctl

# call ADDRESS ACCOUNT METHOD JSON: one signed call with grpcurl.
call() {
  grpcurl $("$peeringctl" sign --account "$2" "expressconnect.v1.$3") -plaintext -d "$4" "$1" "expressconnect.v1.$3"
}

health() {
  docker inspect --format '{{.State.Health.Status}}' "$("${compose[@]}" ps -q "$1")"
}

wait_healthy() {
  for _ in $(seq 1 150); do
    [ "$(health "$1")" = healthy ] && return 0
    sleep 0.2
  done
  echo "$1 did not become healthy: $(health "$1")" >&2
  "${compose[@]}" logs "$1" >&2
  return 1
}

# Every resource both accounts have, as both services describe them.
snapshot() {
  call $A $ACCOUNT_A VpcService/DescribeVpcs '{"page_size": 50}'
  call $A $ACCOUNT_A RouterInterfaceService/DescribeRouterInterfaces '{"page_size": 50}'
  call $A $ACCOUNT_A VpcService/DescribeRouteEntryList "{\"route_table_id\": \"$VTB_A\"}"
  call $B $ACCOUNT_B VpcService/DescribeVpcs '{"page_size": 50}'
  call $B $ACCOUNT_B RouterInterfaceService/DescribeRouterInterfaces '{"page_size": 50}'
}

status_of() {
  call "$1" "$2" RouterInterfaceService/DescribeRouterInterfaceAttribute "{\"router_interface_id\": \"$3\"}" |
    jq -r .routerInterface.status
}

# wait_both STATUS: until both ends report STATUS.
wait_both() {
  local a b
  for _ in $(seq 1 300); do
    a=$(status_of $A $ACCOUNT_A "$A_END" 2>/dev/null || true)
    b=$(status_of $B $ACCOUNT_B "$B_END" 2>/dev/null || true)
    [ "$a" = "$1" ] && [ "$b" = "$1" ] && return 0
    sleep 0.2
  done
  echo "the ends did not agree on $1: initiator $a, acceptor $b" >&2
  return 1
}

cleanup() {
  "${compose[@]}" logs --no-color >"target/compose-$project.log" 2>&1 || true
  "${compose[@]}" down -v >/dev/null 2>&1 || true
}

docker/build-image.sh
"${compose[@]}" down -v >/dev/null 2>&1 || true
trap cleanup EXIT
"${compose[@]}" up -d initiator acceptor
wait_healthy initiator
wait_healthy acceptor
echo "both services healthy"

"${compose[@]}" run --rm demo
echo "the demo container passed"

# A connection across the accounts, with a route, as the README's cookbook makes it.
VPC_A=$(call $A $ACCOUNT_A VpcService/CreateVpc '{"region_id": "cn-hangzhou", "cidr_block": "172.16.0.0/12"}' | jq -r .vpcId)
VTB_A=$(call $A $ACCOUNT_A VpcService/DescribeVpcs "{\"vpc_ids\": [\"$VPC_A\"]}" | jq -r '.vpcs[0].routeTableId')
VPC_B=$(call $B $ACCOUNT_B VpcService/CreateVpc '{"region_id": "cn-shanghai", "cidr_block": "10.0.0.0/8"}' | jq -r .vpcId)
A_END=$(call $A $ACCOUNT_A RouterInterfaceService/CreatePeeringConnection "{\"account_type\": \"ACCOUNT_TYPE_DIFFERENT\",
  \"connection_type\": \"CONNECTION_TYPE_VPC_TO_VPC\", \"routers_to_create\": \"ROUTERS_TO_CREATE_INITIATOR_ONLY\",
  \"local_region_id\": \"cn-hangzhou\", \"local_router_id\": \"$VPC_A\", \"peer_region_id\": \"cn-shanghai\",
  \"peer_router_id\": \"$VPC_B\", \"peer_account_id\": \"$ACCOUNT_B\", \"bandwidth\": \"Large.2\"}" | jq -r .initiatorInterfaceId)
B_END=$(call $B $ACCOUNT_B RouterInterfaceService/CreatePeeringConnection "{\"account_type\": \"ACCOUNT_TYPE_DIFFERENT\",
  \"connection_type\": \"CONNECTION_TYPE_VPC_TO_VPC\", \"routers_to_create\": \"ROUTERS_TO_CREATE_ACCEPTOR_ONLY\",
  \"local_region_id\": \"cn-shanghai\", \"local_router_id\": \"$VPC_B\", \"peer_region_id\": \"cn-hangzhou\",
  \"peer_router_id\": \"$VPC_A\", \"peer_account_id\": \"$ACCOUNT_A\", \"peer_interface_id\": \"$A_END\"}" | jq -r .acceptorInterfaceId)
call $A $ACCOUNT_A RouterInterfaceService/ModifyRouterInterfaceAttribute \
  "{\"router_interface_id\": \"$A_END\", \"opposite_interface_id\": \"$B_END\"}" >/dev/null
call $A $ACCOUNT_A RouterInterfaceService/ConnectRouterInterface "{\"router_interface_id\": \"$A_END\"}" >/dev/null
call $A $ACCOUNT_A VpcService/CreateRouteEntry "{\"route_table_id\": \"$VTB_A\", \"destination_cidr_block\": \"10.0.0.0/8\",
  \"next_hop_type\": \"NEXT_HOP_TYPE_ROUTER_INTERFACE\", \"next_hop_id\": \"$A_END\"}" >/dev/null
wait_both STATUS_ACTIVATED
snapshot >target/compose-before.json
grep -q "$A_END" target/compose-before.json && grep -q "$B_END" target/compose-before.json

for service in initiator acceptor; do
  "${compose[@]}" restart "$service"
  wait_healthy "$service"
  wait_both STATUS_ACTIVATED
  snapshot >target/compose-after.json
  diff target/compose-before.json target/compose-after.json
  echo "restart of $service: every resource kept"
done

# The acceptor off the network: A's suspension cannot reach it; once back, both agree without another call.
network="${project}_default"
acceptor=$("${compose[@]}" ps -q acceptor)
docker network disconnect "$network" "$acceptor"
call $A $ACCOUNT_A RouterInterfaceService/DeactivateRouterInterface "{\"router_interface_id\": \"$A_END\"}" | tee target/compose-suspend.json
grep -q STATUS_SUSPENDING target/compose-suspend.json
docker network connect --alias acceptor "$network" "$acceptor"
wait_both STATUS_SUSPENDED
echo "network cut and restored: both ends Suspended"
