//! The embedded store: one SQLite file per service, WAL mode, `synchronous = FULL` so that a commit is
//! on disk before the call that made it returns.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Change, Snapshot, Store, StoreError};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_route_entries.sql"),
    include_str!("../../migrations/0003_billing.sql"),
];

/// The id of the one row of the `billing` table.
const ACCOUNT_BILLING: &str = "account";

pub const DATABASE_FILE: &str = "account.sqlite3";

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
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i64::try_from(n + 1).unwrap_or(i64::MAX))?;
            tx.commit()?;
        }
        Ok(Self { conn: Some(conn) })
    }

    fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Backend("the store is closed".into()))
    }
}

fn load_table<T: DeserializeOwned>(conn: &Connection, table: &str) -> Result<Vec<(String, T)>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT id, body FROM {table} ORDER BY rowid"))?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
    rows.map(|row| {
        let (id, body) = row?;
        let value = serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { id: id.clone(), source })?;
        Ok((id, value))
    })
    .collect()
}

fn values<T>(rows: Vec<(String, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, v)| v).collect()
}

fn put<T: Serialize>(tx: &rusqlite::Transaction<'_>, table: &str, id: &str, value: &T) -> Result<(), StoreError> {
    let body = serde_json::to_string(value).map_err(|source| StoreError::Corrupt { id: id.to_owned(), source })?;
    tx.prepare_cached(&format!(
        "INSERT INTO {table} (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body"
    ))?
    .execute(params![id, body])?;
    Ok(())
}

fn delete(tx: &rusqlite::Transaction<'_>, table: &str, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?.execute(params![id])?;
    Ok(())
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let conn = self.conn()?;
        Ok(Snapshot {
            vpcs: values(load_table(conn, "vpcs")?),
            vbrs: values(load_table(conn, "vbrs")?),
            router_interfaces: values(load_table(conn, "router_interfaces")?),
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
        for change in changes {
            match change {
                Change::PutVpc(v) => put(&tx, "vpcs", &v.vpc_id, v)?,
                Change::DeleteVpc(id) => delete(&tx, "vpcs", id)?,
                Change::PutVbr(v) => put(&tx, "vbrs", &v.vbr_id, v)?,
                Change::DeleteVbr(id) => delete(&tx, "vbrs", id)?,
                Change::PutRouterInterface(ri) => put(&tx, "router_interfaces", &ri.router_interface_id, &**ri)?,
                Change::DeleteRouterInterface(id) => delete(&tx, "router_interfaces", id)?,
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
    use crate::domain::model::Vpc;

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
}
