-- A router interface becomes two rows: its configuration, and its connection state (status, versions, the
-- handshake's counters, the last error, billing) in a narrow row of its own, because the state changes with
-- every step of a connection and the rest far less often (see shared/src/store/end_rows.rs). In the
-- configuration row the state fields hold placeholders. The view `router_interfaces` puts the two together
-- for the sqlite3 CLI (its body is a JSON merge patch of the two, which drops the state's null fields).
ALTER TABLE router_interfaces RENAME TO router_interface_configs;
ALTER TABLE router_interface_configs DROP COLUMN status;
ALTER TABLE router_interface_configs DROP COLUMN version;

CREATE TABLE router_interface_states (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE VIEW router_interfaces AS
SELECT c.id, json_extract(s.body, '$.status') AS status, c.role, c.router_id,
    json_extract(s.body, '$.version') AS version, json_patch(c.body, s.body) AS body
FROM router_interface_configs c JOIN router_interface_states s USING (id);
