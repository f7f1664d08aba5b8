//! Vector tiles made by PostGIS (`postgis` feature, `[store] tiles =
//! "postgis"`): the public tile layers (areas with their published need
//! attributes, and the boundary sets) are written once to the store's
//! database in Web Mercator with a spatial index, and each tile is
//! `ST_AsMVT` over `ST_AsMVTGeom` of the features in the tile's envelope.
//! The database then does the cutting for every server sharing it, and a
//! layer too large to cut in each server's memory can be served from there.
//!
//! A layer is written only when its content changed (its SHA-256 is kept in
//! `needmap_tile_layers`), under an advisory lock, so servers starting
//! together write it once; each layer is replaced in one transaction.

use geo::MultiPolygon;
use postgres::{Client, NoTls};
use sha2::{Digest, Sha256};

use super::pgstore::Pool;
use crate::error::{Error, Result};
// Tile extent and buffer (tile units): the same as the in-process tiles.
use crate::spatial::tiles::{BUFFER, EXTENT};

fn err(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::BadInput(format!("tile database: {}", db.message())),
        None => Error::BadInput(format!("tile database: {e}")),
    }
}

/// One layer to publish: its name, and per feature the WGS84 polygon and
/// the published properties (a JSON object one level deep).
pub struct LayerRows<'a> {
    pub name: &'a str,
    pub features: Vec<(&'a MultiPolygon<f64>, serde_json::Value)>,
}

/// Connections kept for reuse between tiles.
static CLIENTS: Pool<Client> = Pool::new();

/// Tiles from PostGIS.
pub struct PgTiles {
    url: String,
}

impl std::fmt::Debug for PgTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgTiles")
    }
}

impl PgTiles {
    /// Connect, create the tables if absent, and write every layer whose content changed.
    pub fn publish(url: &str, layers: &[LayerRows<'_>]) -> Result<PgTiles> {
        let mut c = Client::connect(url, NoTls).map_err(err)?;
        c.batch_execute(
            "SELECT pg_advisory_lock(724521);
             CREATE EXTENSION IF NOT EXISTS postgis;
             CREATE TABLE IF NOT EXISTS needmap_tile_layers (
               layer TEXT PRIMARY KEY,
               sha256 TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS needmap_tiles (
               layer TEXT NOT NULL,
               fid BIGINT NOT NULL,
               props JSONB NOT NULL,
               geom geometry(MultiPolygon, 3857) NOT NULL,
               PRIMARY KEY (layer, fid));
             CREATE INDEX IF NOT EXISTS needmap_tiles_geom ON needmap_tiles USING GIST (geom);
             SELECT pg_advisory_unlock(724521);",
        )
        .map_err(err)?;
        for layer in layers {
            let mut geoms = Vec::with_capacity(layer.features.len());
            let mut props = Vec::with_capacity(layer.features.len());
            let mut h = Sha256::new();
            for (g, p) in &layer.features {
                let gj = crate::io::writers::multipolygon_json(g).to_string();
                let pj = p.to_string();
                h.update(gj.as_bytes());
                h.update(pj.as_bytes());
                geoms.push(gj);
                props.push(pj);
            }
            let sha = format!("{:x}", h.finalize());
            let mut tx = c.transaction().map_err(err)?;
            tx.execute("SELECT pg_advisory_xact_lock(724521)", &[])
                .map_err(err)?;
            let stored: Option<String> = tx
                .query_opt(
                    "SELECT sha256 FROM needmap_tile_layers WHERE layer = $1",
                    &[&layer.name],
                )
                .map_err(err)?
                .map(|r| r.get(0));
            if stored.as_deref() == Some(sha.as_str()) {
                continue;
            }
            tx.execute("DELETE FROM needmap_tiles WHERE layer = $1", &[&layer.name])
                .map_err(err)?;
            let fids: Vec<i64> = (0..geoms.len() as i64).collect();
            tx.execute(
                "INSERT INTO needmap_tiles (layer, fid, props, geom)
                 SELECT $1, f.fid, f.props::jsonb,
                        ST_Multi(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f.g), 4326), 3857))
                 FROM unnest($2::bigint[], $3::text[], $4::text[]) AS f(fid, props, g)",
                &[&layer.name, &fids, &props, &geoms],
            )
            .map_err(err)?;
            tx.execute(
                "INSERT INTO needmap_tile_layers (layer, sha256) VALUES ($1, $2)
                 ON CONFLICT (layer) DO UPDATE SET sha256 = EXCLUDED.sha256",
                &[&layer.name, &sha],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        CLIENTS.give(url, c);
        Ok(PgTiles {
            url: url.to_string(),
        })
    }

    /// One tile of a layer as Mapbox Vector Tile bytes (empty when no feature
    /// reaches it); feature ids are the features' numbers, as in-process.
    pub fn tile(&self, layer: &str, z: u8, x: u32, y: u32) -> Result<Vec<u8>> {
        let mut c = match CLIENTS.take(&self.url) {
            Some(c) if !c.is_closed() => c,
            _ => Client::connect(&self.url, NoTls).map_err(err)?,
        };
        let (z, x, y) = (i32::from(z), x as i32, y as i32);
        let margin = f64::from(BUFFER) / f64::from(EXTENT);
        let row = c
            .query_one(
                "SELECT ST_AsMVT(q, $1, $5, 'geom', 'fid') FROM (
                   SELECT fid, props,
                          ST_AsMVTGeom(geom, ST_TileEnvelope($2, $3, $4), $5, $6, true) AS geom
                   FROM needmap_tiles
                   WHERE layer = $1 AND geom && ST_TileEnvelope($2, $3, $4, margin => $7)
                 ) q WHERE geom IS NOT NULL",
                &[&layer, &z, &x, &y, &EXTENT, &BUFFER, &margin],
            )
            .map_err(err)?;
        let bytes: Option<Vec<u8>> = row.get(0);
        CLIENTS.give(&self.url, c);
        Ok(bytes.unwrap_or_default())
    }
}
