//! The embedded store: one SQLite file per service, WAL mode, `synchronous = FULL` so that a commit is
//! on disk before the call that made it returns.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::end_rows::{EndState, configuration};
use super::{Change, Snapshot, Store, StoreError};
use crate::domain::model::RouterInterface;

/// A schema migration: its SQL, then, when the layout of rows changed, the Rust that rewrites them.
struct Migration {
    sql: &'static str,
    rewrite: Option<Rewrite>,
}

type Rewrite = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// Applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[Migration] = &[
    Migration { sql: include_str!("../../migrations/0001_init.sql"), rewrite: None },
    Migration { sql: include_str!("../../migrations/0002_route_entries.sql"), rewrite: None },
    Migration { sql: include_str!("../../migrations/0003_billing.sql"), rewrite: None },
    Migration {
        sql: include_str!("../../migrations/0004_router_interface_states.sql"),
        rewrite: Some(split_router_interfaces),
    },
    Migration { sql: include_str!("../../migrations/0005_router_interface_states_by_id.sql"), rewrite: None },
];

/// The id of the one row of the `billing` table.
const ACCOUNT_BILLING: &str = "account";

pub const DATABASE_FILE: &str = "account.sqlite3";

/// The WAL is copied into the database once it holds this many pages (40 MiB) rather than SQLite's 1,000:
/// commits of thousands of ends in a row (a peer's resync) rewrite mostly the same pages, which a
/// checkpoint then copies once instead of after nearly every commit.
const WAL_PAGES_BEFORE_CHECKPOINT: i64 = 10_000;

#[derive(Debug)]
pub struct SqliteStore {
    conn: Option<Connection>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`. With `synced`, a commit returns only once it
    /// is on disk; without, once the operating system has it (enough to survive the process crashing).
    pub fn open(data_dir: &Path, synced: bool) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        let conn = Connection::open(data_dir.join(DATABASE_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if synced { "FULL" } else { "OFF" })?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES_BEFORE_CHECKPOINT)?;
        Self::migrate(conn)
    }

    /// A store that lives in memory only, for tests and `--in-memory`.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::migrate(Connection::open_in_memory()?)
    }

    fn migrate(mut conn: Connection) -> Result<Self, StoreError> {
        let applied: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(usize::MAX);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "the database has schema version {applied}, newer than this build knows ({}); use a newer build",
                MIGRATIONS.len()
            )));
        }
        for (n, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(migration.sql)?;
            if let Some(rewrite) = migration.rewrite {
                rewrite(&tx)?;
            }
            tx.pragma_update(None, "user_version", i64::try_from(n + 1).unwrap_or(i64::MAX))?;
            tx.commit()?;
        }
        Ok(Self { conn: Some(conn) })
    }

    /// The connection, unless the store was closed.
    fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Backend("the store is closed".into()))
    }

    /// The stored ends, each put together from its two rows, in the order they were made. Each table is
    /// read in the order it is kept (configurations by rowid, states by id) and the two are matched in
    /// memory: a join sought each end's state at random, which at 100,000 ends read the state table's pages
    /// from the file over and over (SQLite's share of a restart fell from 37 % to 12 % without it).
    fn load_router_interfaces(&mut self) -> Result<Vec<Arc<RouterInterface>>, StoreError> {
        let conn = self.conn()?;
        let mut ends: Vec<(String, RouterInterface)> = load_table(conn, "router_interface_configs")?;
        // The ends in the order of their ids: SQLite orders text by its bytes, as `str` does.
        let mut by_id: Vec<usize> = (0..ends.len()).collect();
        by_id.sort_unstable_by(|&a, &b| ends[a].0.cmp(&ends[b].0));
        let missing = |id: &str| StoreError::Inconsistent { id: id.to_owned(), why: "its state row is missing".into() };
        let mut next = by_id.into_iter().peekable();
        for_each_row(conn, "SELECT id, body FROM router_interface_states ORDER BY id", |id, body| {
            let Some(&end) = next.peek() else { return Ok(()) };
            let (end_id, ri) = &mut ends[end];
            match end_id.as_str().cmp(id) {
                std::cmp::Ordering::Less => Err(missing(end_id)),
                std::cmp::Ordering::Equal => {
                    let inconsistent = |why| StoreError::Inconsistent { id: id.to_owned(), why };
                    parse::<EndState>(id, body)?.write_to(ri).map_err(inconsistent)?;
                    next.next();
                    Ok(())
                }
                // A state row without its configuration is left out, as the join left it.
                std::cmp::Ordering::Greater => Ok(()),
            }
        })?;
        if let Some(end) = next.next() {
            return Err(missing(&ends[end].0));
        }
        Ok(ends.into_iter().map(|(_, ri)| Arc::new(ri)).collect())
    }
}

fn parse<T: DeserializeOwned>(id: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt { id: id.to_owned(), source })
}

fn to_json<T: Serialize>(id: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Corrupt { id: id.to_owned(), source })
}

fn load_table<T: DeserializeOwned>(conn: &Connection, table: &str) -> Result<Vec<(String, T)>, StoreError> {
    let mut loaded = Vec::new();
    for_each_row(conn, &format!("SELECT id, body FROM {table} ORDER BY rowid"), |id, body| {
        loaded.push((id.to_owned(), parse(id, body)?));
        Ok(())
    })?;
    Ok(loaded)
}

/// Runs `each` on every row's id and body as `sql` (a query of those two columns) gives them, without
/// copying them out of SQLite first.
fn for_each_row(
    conn: &Connection,
    sql: &str,
    mut each: impl FnMut(&str, &str) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(
            row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?,
            row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
        )?;
    }
    Ok(())
}

fn values<T>(rows: Vec<(String, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, v)| v).collect()
}

fn put<T: Serialize>(tx: &Transaction<'_>, table: &str, id: &str, value: &T) -> Result<(), StoreError> {
    let body = to_json(id, value)?;
    tx.prepare_cached(&format!(
        "INSERT INTO {table} (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body"
    ))?
    .execute(params![id, body])?;
    Ok(())
}

fn delete(tx: &Transaction<'_>, table: &str, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?.execute(params![id])?;
    Ok(())
}

/// `changes` with the ends' in the order of their ids, each end's in the order given (the other tables'
/// first, as given): the state table is kept in that order, and a commit of many ends then walks its
/// pages once instead of jumping between them.
fn in_order_of_ids(changes: &[Change]) -> Vec<&Change> {
    let mut ordered: Vec<&Change> = changes.iter().collect();
    // Stable: an end changed twice in one commit keeps its last change last.
    ordered.sort_by_key(|change| end_of(change));
    ordered
}

fn end_of(change: &Change) -> Option<&str> {
    match change {
        Change::PutRouterInterface(ri) | Change::PutRouterInterfaceState(ri) => Some(ri.router_interface_id.as_str()),
        Change::DeleteRouterInterface(id) => Some(id.as_str()),
        _ => None,
    }
}

/// Writes `ri` as its two rows.
fn put_router_interface(tx: &Transaction<'_>, ri: &RouterInterface) -> Result<(), StoreError> {
    put(tx, "router_interface_configs", &ri.router_interface_id, &configuration(ri))?;
    put_router_interface_state(tx, ri)
}

/// Writes `ri`'s state row alone: its configuration row is the one written before.
fn put_router_interface_state(tx: &Transaction<'_>, ri: &RouterInterface) -> Result<(), StoreError> {
    put(tx, "router_interface_states", &ri.router_interface_id, &EndState::of(ri))
}

/// Migration 4: each end, stored until then as one whole record, becomes its two rows.
fn split_router_interfaces(tx: &Transaction<'_>) -> Result<(), StoreError> {
    for (_, ri) in load_table::<RouterInterface>(tx, "router_interface_configs")? {
        put_router_interface(tx, &ri)?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let router_interfaces = self.load_router_interfaces()?;
        let conn = self.conn()?;
        Ok(Snapshot {
            vpcs: values(load_table(conn, "vpcs")?),
            vbrs: values(load_table(conn, "vbrs")?),
            router_interfaces,
            route_entries: values(load_table(conn, "route_entries")?),
            client_tokens: load_table(conn, "client_tokens")?.into_iter().collect(),
            billing: load_table(conn, "billing")?.into_iter().find(|(id, _)| id == ACCOUNT_BILLING).map(|(_, b)| b),
            orders: values(load_table(conn, "orders")?),
        })
    }

    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let tx = self.conn()?.transaction()?;
        for change in in_order_of_ids(changes) {
            match change {
                Change::PutVpc(v) => put(&tx, "vpcs", &v.vpc_id, v)?,
                Change::DeleteVpc(id) => delete(&tx, "vpcs", id)?,
                Change::PutVbr(v) => put(&tx, "vbrs", &v.vbr_id, v)?,
                Change::DeleteVbr(id) => delete(&tx, "vbrs", id)?,
                Change::PutRouterInterface(ri) => put_router_interface(&tx, ri)?,
                Change::PutRouterInterfaceState(ri) => put_router_interface_state(&tx, ri)?,
                Change::DeleteRouterInterface(id) => {
                    delete(&tx, "router_interface_configs", id)?;
                    delete(&tx, "router_interface_states", id)?;
                }
                Change::PutRouteEntry(e) => put(&tx, "route_entries", &e.route_entry_id, e)?,
                Change::DeleteRouteEntry(id) => delete(&tx, "route_entries", id)?,
                Change::PutClientToken(key, record) => put(&tx, "client_tokens", key, record)?,
                Change::PutAccountBilling(billing) => put(&tx, "billing", ACCOUNT_BILLING, billing)?,
                Change::PutOrder(order) => put(&tx, "orders", &order.order_id, order)?,
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn close(&mut self) -> Result<(), StoreError> {
        if let Some(conn) = self.conn.take() {
            // Fold the WAL back into the main file so the directory is tidy for sqlite3 and backups.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).optional()?;
            conn.close().map_err(|(_, e)| StoreError::from(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::domain::model::{Link, Role, Status, Vpc};

    fn vpc(id: &str) -> Vpc {
        Vpc {
            vpc_id: id.into(),
            region_id: "cn-hangzhou".into(),
            cidr_block: "10.0.0.0/8".into(),
            vrouter_id: "vrt-x".into(),
            route_table_id: "vtb-x".into(),
            name: String::new(),
            description: String::new(),
            creation_time: chrono::DateTime::default(),
        }
    }

    #[test]
    fn commits_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", uuid::Uuid::new_v4()));
        let mut store = SqliteStore::open(&dir, true).unwrap();
        store.commit(&[Change::PutVpc(vpc("vpc-a")), Change::PutVpc(vpc("vpc-b"))]).unwrap();
        store.commit(&[Change::DeleteVpc("vpc-a".into())]).unwrap();
        store.close().unwrap();
        let mut store = SqliteStore::open(&dir, true).unwrap();
        let snapshot = store.load().unwrap();
        assert_eq!(snapshot.vpcs, vec![vpc("vpc-b")]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_second_put_replaces_the_record() {
        let mut store = SqliteStore::in_memory().unwrap();
        store.commit(&[Change::PutVpc(vpc("vpc-a")), Change::PutVpc(vpc("vpc-b"))]).unwrap();
        let renamed = Vpc { name: "renamed".into(), ..vpc("vpc-a") };
        store.commit(&[Change::PutVpc(renamed.clone())]).unwrap();
        assert_eq!(store.load().unwrap().vpcs, vec![renamed, vpc("vpc-b")]);
    }

    #[test]
    fn generated_columns_read_the_body() {
        let mut store = SqliteStore::in_memory().unwrap();
        store.commit(&[Change::PutVpc(vpc("vpc-a"))]).unwrap();
        let cidr: String = store
            .conn()
            .unwrap()
            .query_row("SELECT cidr_block FROM vpcs WHERE id = 'vpc-a'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(cidr, "10.0.0.0/8");
    }

    fn end(id: &str) -> RouterInterface {
        RouterInterface::sample(id, "1", "vrt-a", Role::InitiatingSide)
    }

    fn put_end(ri: &RouterInterface) -> Change {
        Change::PutRouterInterface(Arc::new(ri.clone()))
    }

    fn loaded_ends(store: &mut SqliteStore) -> Vec<RouterInterface> {
        store.load().unwrap().router_interfaces.iter().map(|ri| (**ri).clone()).collect()
    }

    fn query(store: &mut SqliteStore, sql: &str) -> String {
        store.conn().unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn an_end_survives_its_steps_changes_and_deletion_across_reopening() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", uuid::Uuid::new_v4()));
        let (mut a, mut b) = (end("ri-a"), end("ri-b"));
        let mut store = SqliteStore::open(&dir, true).unwrap();
        store.commit(&[put_end(&a), put_end(&b)]).unwrap();
        a.status = Status::Connecting;
        store.commit(&[put_end(&a)]).unwrap();
        store.close().unwrap();
        let mut store = SqliteStore::open(&dir, true).unwrap();
        assert_eq!(loaded_ends(&mut store), vec![a.clone(), b.clone()]);
        a.status = Status::Activated;
        b.name = "renamed".into();
        store.commit(&[put_end(&a), put_end(&b), Change::DeleteRouterInterface("ri-a".into())]).unwrap();
        let c = RouterInterface { name: "c".into(), ..end("ri-c") };
        store.commit(&[put_end(&c)]).unwrap();
        store.close().unwrap();
        let mut store = SqliteStore::open(&dir, true).unwrap();
        assert_eq!(loaded_ends(&mut store), vec![b, c]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_put_of_an_ends_state_rewrites_its_state_row_only() {
        let mut store = SqliteStore::in_memory().unwrap();
        let mut ri = end("ri-a");
        store.commit(&[put_end(&ri)]).unwrap();
        // A mark in the configuration row, which writing the row would replace.
        store
            .conn()
            .unwrap()
            .execute("UPDATE router_interface_configs SET body = json_set(body, '$.x', 1)", [])
            .unwrap();
        (ri.status, ri.version) = (Status::Connecting, 2);
        store.commit(&[Change::PutRouterInterfaceState(Arc::new(ri.clone()))]).unwrap();
        let config = "SELECT json_extract(body, '$.x') || '' FROM router_interface_configs";
        assert_eq!(query(&mut store, config), "1", "the configuration row was not written");
        assert_eq!(
            query(&mut store, "SELECT json_extract(body, '$.status') || version FROM router_interfaces"),
            "Connecting2"
        );
        ri.description = "changed".into();
        store.commit(&[put_end(&ri)]).unwrap();
        assert_eq!(
            query(&mut store, "SELECT ifnull(json_extract(body, '$.x'), 'gone') FROM router_interface_configs"),
            "gone"
        );
        // The view puts the two rows together for the sqlite3 CLI.
        let view = "SELECT status || ' ' || role || ' ' || json_extract(body, '$.description') FROM router_interfaces";
        assert_eq!(query(&mut store, view), "Connecting InitiatingSide changed");
    }

    /// A database in `dir` with the first `version` migrations applied (their SQL only), as an older build
    /// left it.
    fn database_at_version(dir: &Path, version: usize) -> Connection {
        std::fs::create_dir_all(dir).unwrap();
        let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
        for migration in &MIGRATIONS[..version] {
            conn.execute_batch(migration.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64).unwrap();
        conn
    }

    #[test]
    fn an_end_stored_as_one_record_is_split_by_the_migration() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", uuid::Uuid::new_v4()));
        let mut ri = end("ri-a");
        (ri.status, ri.version, ri.name) = (Status::Activated, 5, "old".into());
        {
            let conn = database_at_version(&dir, 3);
            let body = serde_json::to_string(&ri).unwrap();
            conn.execute("INSERT INTO router_interfaces (id, body) VALUES ('ri-a', ?1)", [body]).unwrap();
        }
        let mut store = SqliteStore::open(&dir, true).unwrap();
        assert_eq!(loaded_ends(&mut store), vec![ri]);
        assert_eq!(query(&mut store, "SELECT status || version FROM router_interfaces"), "Activated5");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn state_rows_written_before_they_were_compact_read_as_they_were() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", uuid::Uuid::new_v4()));
        let mut ri = end("ri-a");
        (ri.status, ri.version) = (Status::Activated, 5);
        {
            let conn = database_at_version(&dir, 4);
            let config = serde_json::to_string(&configuration(&ri)).unwrap();
            conn.execute("INSERT INTO router_interface_configs (id, body) VALUES ('ri-a', ?1)", [config]).unwrap();
            // Every field spelled out, as the rows of migration 4 were written.
            let state = r#"{"status":"Activated","business_status":"Normal","version":5,"last_error":null,
                "last_opposite_status":null,"billing":{"billed_until":null,"overdue_since":null,"reservation":null},
                "link":null}"#;
            conn.execute("INSERT INTO router_interface_states (id, body) VALUES ('ri-a', ?1)", [state]).unwrap();
        }
        let mut store = SqliteStore::open(&dir, true).unwrap();
        assert_eq!(loaded_ends(&mut store), vec![ri]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_view_puts_a_linked_end_together_from_its_compact_state_row() {
        let mut store = SqliteStore::in_memory().unwrap();
        let mut ri = end("ri-a");
        let opposite = RouterInterface::sample("ri-b", "2", "vrt-b", Role::AcceptingSide).report();
        ri.link = Some(Box::new(Link { own_suspended: false, intent_version: 1, settled_suspended: None, opposite }));
        (ri.status, ri.version) = (Status::Connecting, 3);
        store.commit(&[put_end(&ri)]).unwrap();
        let state = query(&mut store, "SELECT body FROM router_interface_states");
        assert!(!state.contains("own_suspended") && !state.contains("null"), "{state}");
        let whole: RouterInterface =
            serde_json::from_str(&query(&mut store, "SELECT body FROM router_interfaces")).unwrap();
        assert_eq!(whole, ri);
    }

    #[test]
    fn an_end_changed_twice_in_one_commit_keeps_the_later_change() {
        let mut store = SqliteStore::in_memory().unwrap();
        let (mut a, b, c) = (end("ri-a"), end("ri-b"), end("ri-c"));
        let first = put_end(&a);
        a.status = Status::Connecting;
        let delete = |id: &str| Change::DeleteRouterInterface(id.into());
        store
            .commit(&[put_end(&c), first, put_end(&b), delete("ri-c"), put_end(&a), delete("ri-b"), put_end(&b)])
            .unwrap();
        assert_eq!(loaded_ends(&mut store), vec![a, b]);
    }

    #[test]
    fn each_end_gets_its_own_state_whatever_the_order_of_making() {
        let mut store = SqliteStore::in_memory().unwrap();
        // Made in an order other than their ids' (which the state table is kept in), each in a different status.
        let ends: Vec<RouterInterface> =
            [("ri-c", Status::Connecting), ("ri-a", Status::Suspended), ("ri-b", Status::Idle)]
                .into_iter()
                .map(|(id, status)| RouterInterface { status, ..end(id) })
                .collect();
        for ri in &ends {
            store.commit(&[put_end(ri)]).unwrap();
        }
        assert_eq!(loaded_ends(&mut store), ends);
        // A state row without its configuration, before and after every other id, is left out.
        let conn = store.conn().unwrap();
        for orphan in ["ri-0", "ri-bb", "ri-z"] {
            conn.execute(
                "INSERT INTO router_interface_states SELECT ?1, body FROM router_interface_states LIMIT 1",
                [orphan],
            )
            .unwrap();
        }
        assert_eq!(loaded_ends(&mut store), ends);
        store.conn().unwrap().execute("DELETE FROM router_interface_states WHERE id = 'ri-b'", []).unwrap();
        let error = store.load().unwrap_err().to_string();
        assert_eq!(error, "stored router interface ri-b is inconsistent: its state row is missing");
    }

    #[test]
    fn a_configuration_without_its_state_is_refused_by_name() {
        let mut store = SqliteStore::in_memory().unwrap();
        store.commit(&[put_end(&end("ri-a"))]).unwrap();
        store.conn().unwrap().execute("DELETE FROM router_interface_states", []).unwrap();
        let error = store.load().unwrap_err().to_string();
        assert_eq!(error, "stored router interface ri-a is inconsistent: its state row is missing");
    }
}
