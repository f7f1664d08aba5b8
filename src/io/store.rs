//! The workspace store: uploads kept durably in a GeoPackage beside the
//! workspace file (`needmap-store.gpkg`, or `[store] path`), openable in
//! QGIS like any other.
//!
//! Each upload (a referral extract, for now) is one row of
//! `needmap_uploads`, written in one SQLite transaction (write-ahead log,
//! `synchronous=FULL`): once [`Store::put`] returns, the upload survives a
//! crash or power cut, and an upload interrupted before then leaves nothing.
//! An idempotency key makes a retried upload return the first one instead
//! of storing it twice. The newest upload of a kind is the current one; the
//! workspace loader reads it in place of the file the workspace names.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::gpkg::GeoPackage;
use crate::error::{Error, Result};

/// One stored upload (without its content).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Upload {
    pub id: i64,
    pub kind: String,
    pub idempotency_key: Option<String>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub bytes: i64,
    pub rows: i64,
    pub received_at: String,
    pub user: String,
}

/// Whether [`Store::put`] stored the upload or found it stored already.
#[derive(Clone, Debug, PartialEq)]
pub enum Put {
    Stored(Upload),
    /// An upload with this idempotency key was stored before (same content).
    Replayed(Upload),
}

/// What every store backend does (the GeoPackage file, and PostgreSQL/PostGIS
/// with the `postgis` feature): the same operations with the same guarantees,
/// tested by one suite against both.
pub trait UploadStore: Send {
    /// Store an upload in one transaction (see [`Store::put`]); `resets`
    /// are premises whose earlier edits the upload supersedes (each gets a
    /// new version in the same transaction, so an `ETag` read before the
    /// upload no longer matches).
    fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
        resets: &[String],
    ) -> Result<Put>;
    /// The newest upload of a kind, with its content.
    fn current(&mut self, kind: &str) -> Result<Option<(Upload, Vec<u8>)>>;
    /// Every upload, oldest first, each with whether its content matches its hash.
    fn uploads(&mut self) -> Result<Vec<(Upload, bool)>>;
    /// The upload stored under an idempotency key, if any (without its content).
    fn by_key(&mut self, key: &str) -> Result<Option<Upload>>;
    /// A premises' version: 0 as loaded, one more per edit.
    fn premises_version(&mut self, premises_id: &str) -> Result<i64>;
    /// Compare and set an edit: the new version, or `Err(current)`.
    fn edit_premises(
        &mut self,
        premises_id: &str,
        expected: i64,
        edit: &serde_json::Value,
        user: &str,
    ) -> Result<std::result::Result<i64, i64>>;
    /// Every premises edit in order (a reset is `{"reset_by_upload": id}`).
    fn premises_edits(&mut self) -> Result<Vec<(String, i64, serde_json::Value)>>;
    /// How many uploads and premises edits are stored: grows with every one,
    /// by any server sharing the store.
    fn generation(&mut self) -> Result<(i64, i64)>;
    /// Save a scenario (JSON text), or delete it with `None`, keeping every
    /// earlier version: whether one by that name existed before.
    fn scenario_put(&mut self, name: &str, body: Option<&str>, user: &str) -> Result<bool>;
    /// The current scenarios: `(name, JSON text)` by name.
    fn scenario_list(&mut self) -> Result<Vec<(String, String)>>;
    /// Append a record to the hash-chained audit trail (see [`chain`]): its hash.
    fn append_audit(&mut self, record: serde_json::Value) -> Result<String>;
    /// The audit trail, oldest first (check it with `privacy::audit::verify_records`).
    fn audit_trail(&mut self) -> Result<Vec<serde_json::Value>>;
}

pub use crate::privacy::audit::chain;

/// Now, UTC, to the millisecond.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The audit record of a stored upload.
pub fn upload_record(u: &Upload, resets: usize) -> serde_json::Value {
    serde_json::json!({
        "action": "upload", "user": u.user, "kind": u.kind, "upload": u.id,
        "sha256": u.sha256, "rows": u.rows, "idempotency_key": u.idempotency_key,
        "superseded_edits_of": resets,
    })
}

/// The audit record of a premises edit.
pub fn edit_record(
    premises_id: &str,
    version: i64,
    edit: &serde_json::Value,
    user: &str,
) -> serde_json::Value {
    serde_json::json!({
        "action": "premises_edit", "user": user, "premises_id": premises_id,
        "version": version, "edit": edit,
    })
}

/// The audit record of a scenario saved or deleted.
pub fn scenario_record(name: &str, body: Option<&str>, user: &str) -> serde_json::Value {
    serde_json::json!({
        "action": if body.is_some() { "scenario_save" } else { "scenario_delete" },
        "user": user, "scenario": name, "sha256": body.map(|b| sha256_hex(b.as_bytes())),
    })
}

impl UploadStore for Store {
    fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
        resets: &[String],
    ) -> Result<Put> {
        Store::put(self, kind, key, content, rows, user, resets)
    }
    fn current(&mut self, kind: &str) -> Result<Option<(Upload, Vec<u8>)>> {
        Store::current(self, kind)
    }
    fn uploads(&mut self) -> Result<Vec<(Upload, bool)>> {
        Store::uploads(self)
    }
    fn by_key(&mut self, key: &str) -> Result<Option<Upload>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM needmap_uploads WHERE idempotency_key = ?1"),
                [key],
                row_upload,
            )
            .optional()
            .map_err(|e| self.err(e))
    }
    fn premises_version(&mut self, premises_id: &str) -> Result<i64> {
        Store::premises_version(self, premises_id)
    }
    fn edit_premises(
        &mut self,
        premises_id: &str,
        expected: i64,
        edit: &serde_json::Value,
        user: &str,
    ) -> Result<std::result::Result<i64, i64>> {
        Store::edit_premises(self, premises_id, expected, edit, user)
    }
    fn premises_edits(&mut self) -> Result<Vec<(String, i64, serde_json::Value)>> {
        Store::premises_edits(self)
    }
    fn generation(&mut self) -> Result<(i64, i64)> {
        self.conn()
            .query_row(
                "SELECT (SELECT count(*) FROM needmap_uploads),
                        (SELECT count(*) FROM needmap_premises_edits)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }
    fn scenario_put(&mut self, name: &str, body: Option<&str>, user: &str) -> Result<bool> {
        let (tx, e) = self.write()?;
        let existed: bool = tx
            .query_row(
                "SELECT body IS NOT NULL FROM needmap_scenarios WHERE name = ?1 ORDER BY id DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?
            .unwrap_or(false);
        if body.is_none() && !existed {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO needmap_scenarios (name, body, user, at) VALUES (?1, ?2, ?3, ?4)",
            params![name, body, user, now()],
        )
        .map_err(e)?;
        sqlite_audit(&tx, scenario_record(name, body, user)).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(existed)
    }
    fn scenario_list(&mut self) -> Result<Vec<(String, String)>> {
        let mut s = self
            .conn()
            .prepare(
                "SELECT name, body FROM needmap_scenarios s
                 WHERE id = (SELECT max(id) FROM needmap_scenarios t WHERE t.name = s.name)
                   AND body IS NOT NULL ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = s
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }
    fn append_audit(&mut self, record: serde_json::Value) -> Result<String> {
        let (tx, e) = self.write()?;
        let hash = sqlite_audit(&tx, record).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(hash)
    }
    fn audit_trail(&mut self) -> Result<Vec<serde_json::Value>> {
        let mut s = self
            .conn()
            .prepare("SELECT record FROM needmap_audit ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = s
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for (k, row) in rows.enumerate() {
            let text = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&text).map_err(|e| {
                Error::BadInput(format!("{}: audit record {k}: {e}", self.path.display()))
            })?);
        }
        Ok(out)
    }
}

/// Append an audit record inside a transaction (the chain is read and
/// extended under the transaction's write lock).
fn sqlite_audit(
    tx: &rusqlite::Transaction<'_>,
    record: serde_json::Value,
) -> rusqlite::Result<String> {
    let last = tx
        .query_row(
            "SELECT seq, hash FROM needmap_audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let (seq, hash, text) = chain(last, record);
    tx.execute(
        "INSERT INTO needmap_audit (seq, hash, record) VALUES (?1, ?2, ?3)",
        params![seq, hash, text],
    )?;
    Ok(hash)
}

/// The workspace's store: PostgreSQL/PostGIS where `[store] url` is set
/// (with the `postgis` feature), else the GeoPackage file; `None` when the
/// file does not exist yet and `create` is false.
pub fn open_store(cfg: &crate::Config, create: bool) -> Result<Option<Box<dyn UploadStore>>> {
    if let Some(url) = &cfg.store.url {
        #[cfg(feature = "postgis")]
        {
            return Ok(Some(Box::new(super::pgstore::PgStore::pooled(url)?)));
        }
        #[cfg(not(feature = "postgis"))]
        {
            let _ = url;
            return Err(Error::BadInput(
                "[store] url needs needmap built with the postgis feature (cargo build --features postgis)".into(),
            ));
        }
    }
    let path = cfg.store_path();
    if !create && !path.is_file() {
        return Ok(None);
    }
    Ok(Some(Box::new(Store::open(&path)?)))
}

/// The store of a workspace.
pub struct Store {
    gp: GeoPackage,
    path: PathBuf,
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let mut gp = GeoPackage::open(path)?;
        let c = gp.connection();
        let e = |e: rusqlite::Error| Error::BadInput(format!("{}: {e}", path.display()));
        // Opened before: the tables are there, and reading needs no write.
        let have: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN
                 ('needmap_uploads', 'needmap_premises_edits', 'needmap_scenarios', 'needmap_audit')",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        if have == 4 {
            return Ok(Store {
                gp,
                path: path.to_path_buf(),
            });
        }
        c.execute_batch(
            "BEGIN;
            CREATE TABLE IF NOT EXISTS needmap_uploads (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              kind TEXT NOT NULL,
              idempotency_key TEXT UNIQUE,
              sha256 TEXT NOT NULL,
              bytes INTEGER NOT NULL,
              rows INTEGER NOT NULL,
              received_at TEXT NOT NULL,
              user TEXT NOT NULL,
              content BLOB NOT NULL);
            INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
              VALUES ('needmap_uploads', 'attributes', 'needmap_uploads', 'Uploads kept by needmap');
            CREATE TABLE IF NOT EXISTS needmap_premises_edits (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              premises_id TEXT NOT NULL,
              version INTEGER NOT NULL,
              edit TEXT NOT NULL,
              user TEXT NOT NULL,
              at TEXT NOT NULL,
              UNIQUE (premises_id, version));
            INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
              VALUES ('needmap_premises_edits', 'attributes', 'needmap_premises_edits', 'Edits to premises, versioned');
            CREATE TABLE IF NOT EXISTS needmap_scenarios (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              name TEXT NOT NULL,
              body TEXT,
              user TEXT NOT NULL,
              at TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS needmap_scenarios_name ON needmap_scenarios (name, id);
            INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
              VALUES ('needmap_scenarios', 'attributes', 'needmap_scenarios', 'Scenarios, every version (a deletion has no body)');
            CREATE TABLE IF NOT EXISTS needmap_audit (
              seq INTEGER PRIMARY KEY,
              hash TEXT NOT NULL,
              record TEXT NOT NULL);
            INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
              VALUES ('needmap_audit', 'attributes', 'needmap_audit', 'Audit trail: every change, hash-chained');
            COMMIT;",
        )
        .map_err(e)?;
        Ok(Store {
            gp,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::BadInput(format!("{}: {e}", self.path.display()))
    }

    /// A write transaction, holding the write lock from the start (so a
    /// read-then-write inside it cannot race another writer), and the error
    /// mapping for this file.
    fn write(
        &mut self,
    ) -> Result<(
        rusqlite::Transaction<'_>,
        impl Fn(rusqlite::Error) -> Error + Copy + '_,
    )> {
        let path = &self.path;
        let e = move |e: rusqlite::Error| Error::BadInput(format!("{}: {e}", path.display()));
        let tx = self
            .gp
            .connection()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        Ok((tx, e))
    }

    /// Store an upload of `kind` in one transaction. With an idempotency key
    /// seen before: the earlier upload if the content is the same, an error
    /// if it differs.
    pub fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
        resets: &[String],
    ) -> Result<Put> {
        let sha = sha256_hex(content);
        let (tx, e) = self.write()?;
        if let Some(k) = key {
            let found = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM needmap_uploads WHERE idempotency_key = ?1"),
                    [k],
                    row_upload,
                )
                .optional()
                .map_err(e)?;
            if let Some(u) = found {
                if u.sha256 != sha || u.kind != kind {
                    return Err(Error::BadInput(format!(
                        "idempotency key {k:?} was used for a different upload (#{})",
                        u.id
                    )));
                }
                return Ok(Put::Replayed(u));
            }
        }
        tx.execute(
            "INSERT INTO needmap_uploads (kind, idempotency_key, sha256, bytes, rows, received_at, user, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![kind, key, sha, content.len() as i64, rows as i64, now(), user, content],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        let u = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM needmap_uploads WHERE id = ?1"),
                [id],
                row_upload,
            )
            .map_err(e)?;
        let reset = serde_json::json!({ RESET: id }).to_string();
        for p in resets {
            tx.execute(
                "INSERT INTO needmap_premises_edits (premises_id, version, edit, user, at)
                 SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4
                 FROM needmap_premises_edits WHERE premises_id = ?1",
                params![p, reset, user, now()],
            )
            .map_err(e)?;
        }
        sqlite_audit(&tx, upload_record(&u, resets.len())).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(Put::Stored(u))
    }

    /// The newest upload of a kind, with its content.
    pub fn current(&self, kind: &str) -> Result<Option<(Upload, Vec<u8>)>> {
        self.conn()
            .query_row(
            &format!("SELECT {COLUMNS}, content FROM needmap_uploads WHERE kind = ?1 ORDER BY id DESC LIMIT 1"),
            [kind],
            |r| Ok((row_upload(r)?, r.get::<_, Vec<u8>>(8)?)),
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Every upload, oldest first (without content), and each one's content hash checked.
    pub fn uploads(&self) -> Result<Vec<(Upload, bool)>> {
        let conn = self.conn();
        let mut s = conn
            .prepare(&format!(
                "SELECT {COLUMNS}, content FROM needmap_uploads ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = s
            .query_map([], |r| {
                let u = row_upload(r)?;
                let content: Vec<u8> = r.get(8)?;
                let ok = sha256_hex(&content) == u.sha256 && content.len() as i64 == u.bytes;
                Ok((u, ok))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The version of a premises: 0 as loaded from its file, then one more per edit.
    pub fn premises_version(&self, premises_id: &str) -> Result<i64> {
        self.conn()
            .query_row(
                "SELECT coalesce(max(version), 0) FROM needmap_premises_edits WHERE premises_id = ?1",
                [premises_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Store an edit of a premises if its version is still `expected`
    /// (compare and set, in one transaction): the new version, or
    /// `Err(current)` when another edit came first.
    pub fn edit_premises(
        &mut self,
        premises_id: &str,
        expected: i64,
        edit: &serde_json::Value,
        user: &str,
    ) -> Result<std::result::Result<i64, i64>> {
        let (tx, e) = self.write()?;
        let current: i64 = tx
            .query_row(
                "SELECT coalesce(max(version), 0) FROM needmap_premises_edits WHERE premises_id = ?1",
                [premises_id],
                |r| r.get(0),
            )
            .map_err(e)?;
        if current != expected {
            return Ok(Err(current));
        }
        tx.execute(
            "INSERT INTO needmap_premises_edits (premises_id, version, edit, user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![premises_id, current + 1, edit.to_string(), user, now()],
        )
        .map_err(e)?;
        sqlite_audit(&tx, edit_record(premises_id, current + 1, edit, user)).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(Ok(current + 1))
    }

    /// Every premises edit in order: `(premises_id, version, edit)`.
    pub fn premises_edits(&self) -> Result<Vec<(String, i64, serde_json::Value)>> {
        let mut s = self
            .conn()
            .prepare("SELECT premises_id, version, edit FROM needmap_premises_edits ORDER BY premises_id, version")
            .map_err(|e| self.err(e))?;
        let rows = s
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, v, text) = row.map_err(|e| self.err(e))?;
            let edit = serde_json::from_str(&text).map_err(|e| {
                Error::BadInput(format!("{}: edit {v} of {id}: {e}", self.path.display()))
            })?;
            out.push((id, v, edit));
        }
        Ok(out)
    }

    fn conn(&self) -> &rusqlite::Connection {
        self.gp.conn()
    }
}

/// The key of a reset edit: `{"reset_by_upload": <upload id>}` means the
/// premises' earlier edits are superseded by that upload of its layer.
pub const RESET: &str = "reset_by_upload";

const COLUMNS: &str = "id, kind, idempotency_key, sha256, bytes, rows, received_at, user";

fn row_upload(r: &rusqlite::Row<'_>) -> rusqlite::Result<Upload> {
    Ok(Upload {
        id: r.get(0)?,
        kind: r.get(1)?,
        idempotency_key: r.get(2)?,
        sha256: r.get(3)?,
        bytes: r.get(4)?,
        rows: r.get(5)?,
        received_at: r.get(6)?,
        user: r.get(7)?,
    })
}

/// An edit of a premises' record: the fields given replace the loaded ones.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PremisesEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<String>,
    /// A new position (WGS84), both or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
}

impl PremisesEdit {
    /// Apply to a premises, or say what is wrong (nothing is changed then).
    pub fn apply(&self, p: &mut crate::model::Premises) -> std::result::Result<(), String> {
        if let Some(c) = self.capacity {
            if !(c.is_finite() && c >= 0.0) {
                return Err(format!("capacity {c} is not a number of places at least 0"));
            }
        }
        let moved = match (self.lon, self.lat) {
            (None, None) => None,
            (Some(lon), Some(lat)) => {
                let (x, y) = crate::spatial::crs::wgs84_to_bng(lon, lat)
                    .map_err(|e| format!("lon {lon}, lat {lat}: {e}"))?;
                Some((lon, lat, x, y))
            }
            _ => return Err("give both lon and lat, or neither".into()),
        };
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err("name may not be empty".into());
        }
        if let Some(n) = &self.name {
            p.name = n.clone();
        }
        if let Some(h) = &self.opening_hours {
            p.opening_hours = (!h.trim().is_empty()).then(|| h.clone());
        }
        if let Some(c) = self.capacity {
            p.capacity = Some(c);
        }
        if let Some(s) = &self.services {
            p.services = s.clone();
        }
        if let Some(v) = &self.provider {
            p.provider = Some(v.clone());
        }
        if let Some(v) = &self.eligibility {
            p.eligibility = Some(v.clone());
        }
        if let Some((lon, lat, x, y)) = moved {
            (p.lon, p.lat, p.x_m, p.y_m) = (lon, lat, x, y);
        }
        Ok(())
    }
}

/// Why an upload was not stored.
#[derive(Debug)]
pub enum UploadError {
    /// The content fails validation: each problem named (file, row, what).
    Invalid(Vec<String>),
    /// The idempotency key was used for other content.
    KeyReused(String),
    /// The store could not be read or written.
    Store(String),
}

/// What an upload did.
pub enum Uploaded {
    /// Stored; the workspace as it now loads.
    Stored(Upload, Box<crate::io::workspace::Atlas>),
    /// Stored before under the same key: nothing done.
    Replayed(Upload),
}

/// What an upload replaces.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The referral extract (CSV with the columns `[referrals]` names).
    Referrals,
    /// A premises layer (GeoJSON), by its name (the file name without extension).
    Premises(String),
    /// A boundary set (GeoJSON), by its name in `[[boundaries]]`.
    Boundaries(String),
}

impl Target {
    /// The store's kind for it (see `io::workspace::upload_kind`).
    pub fn kind(&self) -> String {
        use crate::io::workspace::upload_kind;
        match self {
            Target::Referrals => upload_kind("referrals", None),
            Target::Premises(n) => upload_kind("premises", Some(n)),
            Target::Boundaries(n) => upload_kind("boundaries", Some(n)),
        }
    }

    fn extension(&self) -> &'static str {
        match self {
            Target::Referrals => "csv",
            _ => "geojson",
        }
    }

    /// Whether the workspace has it: what is wrong otherwise.
    pub fn check(&self, cfg: &crate::Config) -> std::result::Result<(), String> {
        use crate::io::workspace::premises_layer_name;
        match self {
            Target::Referrals if cfg.referrals.is_none() => Err(
                "the workspace has no [referrals] section saying which columns an extract has"
                    .into(),
            ),
            Target::Referrals => Ok(()),
            Target::Premises(n) => {
                let names: Vec<String> = cfg.premises.iter().map(premises_layer_name).collect();
                match names.iter().filter(|x| *x == n).count() {
                    1 => Ok(()),
                    0 => Err(format!(
                        "the workspace has no premises layer {n:?}; its layers are: {}",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    )),
                    _ => Err(format!(
                        "two premises layers are named {n:?} (by file name): rename one file"
                    )),
                }
            }
            Target::Boundaries(n) => {
                if cfg.boundaries.iter().any(|b| &b.name == n) {
                    Ok(())
                } else {
                    let names: Vec<&str> = cfg.boundaries.iter().map(|b| b.name.as_str()).collect();
                    Err(format!(
                        "the workspace has no boundary set {n:?}; its sets are: {}",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ))
                }
            }
        }
    }
}

/// Upload a referral extract, a premises layer or a boundary set to a
/// workspace's store: a replay is answered first; then the upload is
/// validated in full by loading the workspace with it in place of what it
/// replaces (nothing is stored if anything is wrong); then stored in one
/// transaction. An upload of a premises layer supersedes the edits made to
/// its premises before it. Shared by the API and `needmap upload`.
pub fn upload(
    cfg: &crate::Config,
    target: &Target,
    key: Option<&str>,
    body: &[u8],
    user: &str,
) -> std::result::Result<Uploaded, UploadError> {
    use crate::io::workspace::{load_workspace, LoadOptions};
    let store_err = |e: Error| UploadError::Store(e.to_string());
    target
        .check(cfg)
        .map_err(|m| UploadError::Invalid(vec![m]))?;
    let kind = target.kind();
    let sha = sha256_hex(body);
    if let (Some(k), Some(mut store)) = (key, open_store(cfg, false).map_err(store_err)?) {
        if let Some(u) = store.by_key(k).map_err(store_err)? {
            if u.sha256 != sha || u.kind != kind {
                return Err(UploadError::KeyReused(format!(
                    "idempotency key {k:?} was used for a different upload (#{})",
                    u.id
                )));
            }
            return Ok(Uploaded::Replayed(u));
        }
    }
    let tmp = std::env::temp_dir().join(format!(
        "needmap-candidate-{}-{}-{}.{}",
        std::process::id(),
        crate::io::workspace::temp_seq(),
        &sha[..16],
        target.extension()
    ));
    std::fs::write(&tmp, body).map_err(|e| UploadError::Store(e.to_string()))?;
    let opts = LoadOptions {
        candidate: Some((kind.clone(), tmp.clone())),
        ..LoadOptions::default()
    };
    let loaded = load_workspace(cfg, &opts);
    let _ = std::fs::remove_file(&tmp);
    let atlas = match loaded {
        Ok(a) => a,
        Err(report) => {
            return Err(UploadError::Invalid(
                report
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == crate::io::report::Severity::Error)
                    .map(|d| d.to_string().replace(&tmp.display().to_string(), "upload"))
                    .collect(),
            ))
        }
    };
    let (rows, resets) = match target {
        Target::Referrals => (atlas.referrals.referrals.len(), Vec::new()),
        Target::Premises(_) => {
            let ids: Vec<String> = atlas
                .premises
                .iter()
                .filter(|p| p.source == crate::io::workspace::CANDIDATE)
                .map(|p| p.code.clone())
                .collect();
            (ids.len(), ids)
        }
        Target::Boundaries(n) => (
            atlas
                .boundary_sets
                .iter()
                .find(|b| &b.name == n)
                .map_or(0, |b| b.units.len()),
            Vec::new(),
        ),
    };
    let mut store = open_store(cfg, true)
        .map_err(store_err)?
        .ok_or_else(|| UploadError::Store("no store".into()))?;
    let put = store
        .put(&kind, key, body, rows, user, &resets)
        .map_err(|e| {
            let m = e.to_string();
            if m.starts_with("idempotency key") {
                UploadError::KeyReused(m)
            } else {
                UploadError::Store(m)
            }
        })?;
    match put {
        Put::Replayed(u) => Ok(Uploaded::Replayed(u)),
        // What a restart would load: the load above (which left out the
        // edits a premises upload supersedes).
        Put::Stored(u) => Ok(Uploaded::Stored(u, Box::new(atlas))),
    }
}
