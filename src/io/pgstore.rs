//! The workspace store in PostgreSQL with PostGIS (`postgis` feature), for
//! several needmap servers sharing one database: the same operations and
//! guarantees as the GeoPackage store ([`super::store::UploadStore`]).
//!
//! Uploads are one `INSERT … ON CONFLICT (idempotency_key) DO NOTHING`
//! in a transaction, so two servers given the same retried upload store it
//! once; premises edits are compare-and-set under a transaction-scoped
//! advisory lock per premises, with a unique (premises, version) as the
//! last guard. Edits that move a premises keep the new position as a
//! PostGIS point (EPSG:4326), so the database can be queried spatially.

use postgres::{Client, NoTls};

use super::store::{
    chain, edit_record, now, scenario_record, sha256_hex, upload_record, Put, Upload, UploadStore,
    RESET,
};
use crate::error::{Error, Result};

/// A connection to the store's database.
pub struct PgStore {
    client: Client,
}

/// Connections (or anything holding one) kept for reuse, by connection
/// string: a server opens the store for each request that needs it, and
/// cuts tiles one request at a time.
pub struct Pool<T> {
    idle: std::sync::Mutex<Vec<(String, T)>>,
}

/// The most kept idle in one pool.
const MAX_IDLE: usize = 8;

impl<T> Pool<T> {
    pub const fn new() -> Pool<T> {
        Pool {
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// One kept for `url`, if any.
    pub fn take(&self, url: &str) -> Option<T> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let i = idle.iter().position(|(u, _)| u == url)?;
        Some(idle.swap_remove(i).1)
    }

    /// Keep one for reuse (dropped when the pool is full).
    pub fn give(&self, url: &str, t: T) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push((url.to_string(), t));
        }
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool::new()
    }
}

/// Store connections kept for reuse (their schema is set up).
static STORES: Pool<PgStore> = Pool::new();

/// A connection from the pool, given back when dropped (unless broken).
pub struct Pooled {
    url: String,
    store: Option<PgStore>,
}

impl PgStore {
    /// A connection to `url` from the pool, or a new one.
    pub fn pooled(url: &str) -> Result<Pooled> {
        let store = match STORES.take(url) {
            Some(s) if !s.client.is_closed() => s,
            _ => PgStore::connect(url)?,
        };
        Ok(Pooled {
            url: url.to_string(),
            store: Some(store),
        })
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(s) = self.store.take().filter(|s| !s.client.is_closed()) {
            STORES.give(&self.url, s);
        }
    }
}

impl Pooled {
    fn s(&mut self) -> &mut PgStore {
        // Present from `pooled` until `drop`.
        self.store
            .as_mut()
            .expect("a pooled connection is held until dropped")
    }
}

impl UploadStore for Pooled {
    fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
        resets: &[String],
    ) -> Result<Put> {
        self.s().put(kind, key, content, rows, user, resets)
    }
    fn current(&mut self, kind: &str) -> Result<Option<(Upload, Vec<u8>)>> {
        self.s().current(kind)
    }
    fn uploads(&mut self) -> Result<Vec<(Upload, bool)>> {
        self.s().uploads()
    }
    fn by_key(&mut self, key: &str) -> Result<Option<Upload>> {
        self.s().by_key(key)
    }
    fn premises_version(&mut self, premises_id: &str) -> Result<i64> {
        self.s().premises_version(premises_id)
    }
    fn edit_premises(
        &mut self,
        premises_id: &str,
        expected: i64,
        edit: &serde_json::Value,
        user: &str,
    ) -> Result<std::result::Result<i64, i64>> {
        self.s().edit_premises(premises_id, expected, edit, user)
    }
    fn premises_edits(&mut self) -> Result<Vec<(String, i64, serde_json::Value)>> {
        self.s().premises_edits()
    }
    fn generation(&mut self) -> Result<(i64, i64)> {
        self.s().generation()
    }
    fn scenario_put(&mut self, name: &str, body: Option<&str>, user: &str) -> Result<bool> {
        self.s().scenario_put(name, body, user)
    }
    fn scenario_list(&mut self) -> Result<Vec<(String, String)>> {
        self.s().scenario_list()
    }
    fn append_audit(&mut self, record: serde_json::Value) -> Result<String> {
        self.s().append_audit(record)
    }
    fn audit_trail(&mut self) -> Result<Vec<serde_json::Value>> {
        self.s().audit_trail()
    }
}

fn err(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::BadInput(format!(
            "store database: {}: {}{}",
            db.severity(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        )),
        None => Error::BadInput(format!("store database: {e}")),
    }
}

const COLUMNS: &str = "id, kind, idempotency_key, sha256, bytes, rows, received_at, \"user\"";

fn upload(r: &postgres::Row) -> Upload {
    Upload {
        id: r.get(0),
        kind: r.get(1),
        idempotency_key: r.get(2),
        sha256: r.get(3),
        bytes: r.get(4),
        rows: r.get(5),
        received_at: r.get(6),
        user: r.get(7),
    }
}

impl PgStore {
    /// Connect (a libpq connection string or URL) and create the tables if absent.
    pub fn connect(url: &str) -> Result<PgStore> {
        let mut client = Client::connect(url, NoTls).map_err(err)?;
        client
            .batch_execute(
                "SELECT pg_advisory_lock(724519);
                 CREATE EXTENSION IF NOT EXISTS postgis;
                 CREATE TABLE IF NOT EXISTS needmap_uploads (
                   id BIGSERIAL PRIMARY KEY,
                   kind TEXT NOT NULL,
                   idempotency_key TEXT UNIQUE,
                   sha256 TEXT NOT NULL,
                   bytes BIGINT NOT NULL,
                   rows BIGINT NOT NULL,
                   received_at TEXT NOT NULL,
                   \"user\" TEXT NOT NULL,
                   content BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS needmap_premises_edits (
                   id BIGSERIAL PRIMARY KEY,
                   premises_id TEXT NOT NULL,
                   version BIGINT NOT NULL,
                   edit TEXT NOT NULL,
                   \"user\" TEXT NOT NULL,
                   at TEXT NOT NULL,
                   geom geometry(Point, 4326),
                   UNIQUE (premises_id, version));
                 CREATE TABLE IF NOT EXISTS needmap_scenarios (
                   id BIGSERIAL PRIMARY KEY,
                   name TEXT NOT NULL,
                   body TEXT,
                   \"user\" TEXT NOT NULL,
                   at TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS needmap_scenarios_name ON needmap_scenarios (name, id);
                 CREATE TABLE IF NOT EXISTS needmap_audit (
                   seq BIGINT PRIMARY KEY,
                   hash TEXT NOT NULL,
                   record TEXT NOT NULL);
                 SELECT pg_advisory_unlock(724519);",
            )
            .map_err(err)?;
        Ok(PgStore { client })
    }
}

/// Append an audit record inside a transaction, the chain extended under
/// a transaction-scoped advisory lock (one writer at a time across servers).
fn pg_audit(tx: &mut postgres::Transaction<'_>, record: serde_json::Value) -> Result<String> {
    tx.execute("SELECT pg_advisory_xact_lock(724520)", &[])
        .map_err(err)?;
    let last = tx
        .query_opt(
            "SELECT seq, hash FROM needmap_audit ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .map_err(err)?
        .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)));
    let (seq, hash, text) = chain(last, record);
    tx.execute(
        "INSERT INTO needmap_audit (seq, hash, record) VALUES ($1, $2, $3)",
        &[&seq, &hash, &text],
    )
    .map_err(err)?;
    Ok(hash)
}

impl UploadStore for PgStore {
    fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
        resets: &[String],
    ) -> Result<Put> {
        let sha = sha256_hex(content);
        let mut tx = self.client.transaction().map_err(err)?;
        let inserted = tx
            .query_opt(
                &format!(
                    "INSERT INTO needmap_uploads (kind, idempotency_key, sha256, bytes, rows, received_at, \"user\", content)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (idempotency_key) DO NOTHING RETURNING {COLUMNS}"
                ),
                &[&kind, &key, &sha, &(content.len() as i64), &(rows as i64), &now(), &user, &content],
            )
            .map_err(err)?;
        let out = match inserted {
            Some(r) => {
                let u = upload(&r);
                let reset = serde_json::json!({ RESET: u.id }).to_string();
                for p in resets {
                    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[p])
                        .map_err(err)?;
                    tx.execute(
                        "INSERT INTO needmap_premises_edits (premises_id, version, edit, \"user\", at)
                         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4
                         FROM needmap_premises_edits WHERE premises_id = $1",
                        &[p, &reset, &user, &now()],
                    )
                    .map_err(err)?;
                }
                pg_audit(&mut tx, upload_record(&u, resets.len()))?;
                Put::Stored(u)
            }
            None => {
                let r = tx
                    .query_one(
                        &format!(
                            "SELECT {COLUMNS} FROM needmap_uploads WHERE idempotency_key = $1"
                        ),
                        &[&key],
                    )
                    .map_err(err)?;
                let u = upload(&r);
                if u.sha256 != sha || u.kind != kind {
                    return Err(Error::BadInput(format!(
                        "idempotency key {:?} was used for a different upload (#{})",
                        key.unwrap_or_default(),
                        u.id
                    )));
                }
                Put::Replayed(u)
            }
        };
        tx.commit().map_err(err)?;
        Ok(out)
    }

    fn current(&mut self, kind: &str) -> Result<Option<(Upload, Vec<u8>)>> {
        let r = self
            .client
            .query_opt(
                &format!("SELECT {COLUMNS}, content FROM needmap_uploads WHERE kind = $1 ORDER BY id DESC LIMIT 1"),
                &[&kind],
            )
            .map_err(err)?;
        Ok(r.map(|r| (upload(&r), r.get::<_, Vec<u8>>(8))))
    }

    fn uploads(&mut self) -> Result<Vec<(Upload, bool)>> {
        let rows = self
            .client
            .query(
                &format!("SELECT {COLUMNS}, content FROM needmap_uploads ORDER BY id"),
                &[],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let u = upload(r);
                let content: Vec<u8> = r.get(8);
                let ok = sha256_hex(&content) == u.sha256 && content.len() as i64 == u.bytes;
                (u, ok)
            })
            .collect())
    }

    fn by_key(&mut self, key: &str) -> Result<Option<Upload>> {
        let r = self
            .client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM needmap_uploads WHERE idempotency_key = $1"),
                &[&key],
            )
            .map_err(err)?;
        Ok(r.as_ref().map(upload))
    }

    fn premises_version(&mut self, premises_id: &str) -> Result<i64> {
        let r = self
            .client
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM needmap_premises_edits WHERE premises_id = $1",
                &[&premises_id],
            )
            .map_err(err)?;
        Ok(r.get(0))
    }

    fn edit_premises(
        &mut self,
        premises_id: &str,
        expected: i64,
        edit: &serde_json::Value,
        user: &str,
    ) -> Result<std::result::Result<i64, i64>> {
        let mut tx = self.client.transaction().map_err(err)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&premises_id],
        )
        .map_err(err)?;
        let current: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM needmap_premises_edits WHERE premises_id = $1",
                &[&premises_id],
            )
            .map_err(err)?
            .get(0);
        if current != expected {
            return Ok(Err(current));
        }
        let (lon, lat) = (
            edit.get("lon").and_then(|v| v.as_f64()),
            edit.get("lat").and_then(|v| v.as_f64()),
        );
        tx.execute(
            "INSERT INTO needmap_premises_edits (premises_id, version, edit, \"user\", at, geom)
             VALUES ($1, $2, $3, $4, $5,
               CASE WHEN $6::float8 IS NULL OR $7::float8 IS NULL THEN NULL
                    ELSE ST_SetSRID(ST_MakePoint($6::float8, $7::float8), 4326) END)",
            &[
                &premises_id,
                &(current + 1),
                &edit.to_string(),
                &user,
                &now(),
                &lon,
                &lat,
            ],
        )
        .map_err(err)?;
        pg_audit(&mut tx, edit_record(premises_id, current + 1, edit, user))?;
        tx.commit().map_err(err)?;
        Ok(Ok(current + 1))
    }

    fn premises_edits(&mut self) -> Result<Vec<(String, i64, serde_json::Value)>> {
        let rows = self
            .client
            .query(
                "SELECT premises_id, version, edit FROM needmap_premises_edits ORDER BY premises_id, version",
                &[],
            )
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                let (id, v, text): (String, i64, String) = (r.get(0), r.get(1), r.get(2));
                serde_json::from_str(&text)
                    .map(|e| (id.clone(), v, e))
                    .map_err(|e| Error::BadInput(format!("store database: edit {v} of {id}: {e}")))
            })
            .collect()
    }

    fn generation(&mut self) -> Result<(i64, i64)> {
        let r = self
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM needmap_uploads),
                        (SELECT count(*) FROM needmap_premises_edits)",
                &[],
            )
            .map_err(err)?;
        Ok((r.get(0), r.get(1)))
    }

    fn scenario_put(&mut self, name: &str, body: Option<&str>, user: &str) -> Result<bool> {
        let mut tx = self.client.transaction().map_err(err)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('scenario:' || $1))",
            &[&name],
        )
        .map_err(err)?;
        let existed = tx
            .query_opt(
                "SELECT body IS NOT NULL FROM needmap_scenarios WHERE name = $1 ORDER BY id DESC LIMIT 1",
                &[&name],
            )
            .map_err(err)?
            .is_some_and(|r| r.get::<_, bool>(0));
        if body.is_none() && !existed {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO needmap_scenarios (name, body, \"user\", at) VALUES ($1, $2, $3, $4)",
            &[&name, &body, &user, &now()],
        )
        .map_err(err)?;
        pg_audit(&mut tx, scenario_record(name, body, user))?;
        tx.commit().map_err(err)?;
        Ok(existed)
    }

    fn scenario_list(&mut self) -> Result<Vec<(String, String)>> {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT ON (name) name, body FROM needmap_scenarios ORDER BY name, id DESC",
                &[],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.get::<_, String>(0), r.get::<_, Option<String>>(1)?)))
            .collect())
    }

    fn append_audit(&mut self, record: serde_json::Value) -> Result<String> {
        let mut tx = self.client.transaction().map_err(err)?;
        let hash = pg_audit(&mut tx, record)?;
        tx.commit().map_err(err)?;
        Ok(hash)
    }

    fn audit_trail(&mut self) -> Result<Vec<serde_json::Value>> {
        let rows = self
            .client
            .query("SELECT seq, record FROM needmap_audit ORDER BY seq", &[])
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                let (seq, text): (i64, String) = (r.get(0), r.get(1));
                serde_json::from_str(&text).map_err(|e| {
                    Error::BadInput(format!("store database: audit record {seq}: {e}"))
                })
            })
            .collect()
    }
}
