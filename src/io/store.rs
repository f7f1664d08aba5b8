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
    ) -> Result<Put> {
        let sha = sha256_hex(content);
        let path = self.path.clone();
        let e = |e: rusqlite::Error| Error::BadInput(format!("{}: {e}", path.display()));
        let c = self.gp.connection();
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
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
        let now = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        tx.execute(
            "INSERT INTO needmap_uploads (kind, idempotency_key, sha256, bytes, rows, received_at, user, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![kind, key, sha, content.len() as i64, rows as i64, now, user, content],
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

    fn conn(&self) -> &rusqlite::Connection {
        self.gp.conn()
    }
}

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
