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

use super::store::{sha256_hex, Put, Upload, UploadStore};
use crate::error::{Error, Result};

/// A connection to the store's database.
pub struct PgStore {
    client: Client,
}

fn err(e: postgres::Error) -> Error {
    Error::BadInput(format!("store database: {e}"))
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
                 SELECT pg_advisory_unlock(724519);",
            )
            .map_err(err)?;
        Ok(PgStore { client })
    }
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl UploadStore for PgStore {
    fn put(
        &mut self,
        kind: &str,
        key: Option<&str>,
        content: &[u8],
        rows: usize,
        user: &str,
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
            Some(r) => Put::Stored(upload(&r)),
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
}
