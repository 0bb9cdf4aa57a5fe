-- Custom route entries of the route tables of VPCs and VBRs.
CREATE TABLE route_entries (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    route_table_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.route_table_id')) VIRTUAL,
    destination_cidr_block TEXT GENERATED ALWAYS AS (json_extract(body, '$.destination_cidr_block')) VIRTUAL,
    next_hop_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.next_hop_id')) VIRTUAL
);
