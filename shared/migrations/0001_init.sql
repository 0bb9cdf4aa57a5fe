-- One account's resources. Each row keeps the domain record as JSON in `body`; the generated columns
-- make the usual questions easy to ask with the sqlite3 CLI.
CREATE TABLE vpcs (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    region_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.region_id')) VIRTUAL,
    cidr_block TEXT GENERATED ALWAYS AS (json_extract(body, '$.cidr_block')) VIRTUAL
);

CREATE TABLE vbrs (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    region_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.region_id')) VIRTUAL,
    access_point_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.access_point_id')) VIRTUAL
);

CREATE TABLE router_interfaces (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    status TEXT GENERATED ALWAYS AS (json_extract(body, '$.status')) VIRTUAL,
    role TEXT GENERATED ALWAYS AS (json_extract(body, '$.role')) VIRTUAL,
    router_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.router_id')) VIRTUAL,
    version INTEGER GENERATED ALWAYS AS (json_extract(body, '$.version')) VIRTUAL
);

-- The first answer of each mutating call made with a client_token, keyed by operation and token.
CREATE TABLE client_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);
