-- Billing: the account's balance and clock offset (one row, id 'account'), and its orders.
CREATE TABLE billing (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    balance_cents INTEGER GENERATED ALWAYS AS (json_extract(body, '$.balance')) VIRTUAL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    router_interface_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.router_interface_id')) VIRTUAL,
    order_type TEXT GENERATED ALWAYS AS (json_extract(body, '$.order_type')) VIRTUAL,
    amount_cents INTEGER GENERATED ALWAYS AS (json_extract(body, '$.amount')) VIRTUAL,
    create_time TEXT GENERATED ALWAYS AS (json_extract(body, '$.create_time')) VIRTUAL
);
