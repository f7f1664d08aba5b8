//! Vector tiles: `/tiles/{layer}/{z}/{x}/{y}.mvt` and TileJSON at
//! `/tiles/{layer}.json`. Tiles are cut on demand from the prepared tile
//! geometry and kept, already gzipped, in a bounded cache, so a warm request
//! is a hash look-up whether or not the client asks for gzip.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::io::mvt::{encode_polygon_layer, MvtValue};
use crate::io::publish::PublicRelease;
use crate::io::Atlas;
use crate::privacy::Count;
use crate::privacy::Disclosure;
use crate::spatial::tiles::{valid_tile, TileGeometry, MAX_ZOOM};

type Props = Vec<(&'static str, MvtValue)>;

/// One tiled layer: geometry and the published properties of each feature.
pub struct TileLayer {
    pub name: String,
    pub geometry: TileGeometry,
    pub props: Vec<Props>,
    pub fields: Value,
}

/// A finished tile: raw and gzipped bytes (empty when the tile has no feature).
pub struct Tile {
    pub raw: Bytes,
    pub gzip: Bytes,
}

/// Layer index, z, x, y.
type TileKey = (u16, u8, u32, u32);

/// A bounded cache of finished tiles.
pub struct TileCache {
    max_bytes: usize,
    used: AtomicUsize,
    map: RwLock<HashMap<TileKey, Arc<Tile>>>,
}

impl TileCache {
    /// A cache holding at most `max_bytes` of tiles (0 disables it).
    pub fn new(max_bytes: usize) -> TileCache {
        TileCache {
            max_bytes,
            used: AtomicUsize::new(0),
            map: RwLock::new(HashMap::new()),
        }
    }

    /// True when tiles are kept.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    fn get(&self, k: &(u16, u8, u32, u32)) -> Option<Arc<Tile>> {
        if self.max_bytes == 0 {
            return None;
        }
        self.map.read().ok()?.get(k).cloned()
    }

    fn put(&self, k: (u16, u8, u32, u32), t: Arc<Tile>) {
        if self.max_bytes == 0 {
            return;
        }
        let size = t.raw.len() + t.gzip.len() + 64;
        if self.used.load(Ordering::Relaxed) + size > self.max_bytes {
            return; // full: serve uncached from here on
        }
        if let Ok(mut m) = self.map.write() {
            if m.insert(k, t).is_none() {
                self.used.fetch_add(size, Ordering::Relaxed);
            }
        }
    }
}

fn count_value(c: Count) -> MvtValue {
    match c {
        Count::Value(v) => MvtValue::Int(v.round() as i64),
        Count::Suppressed(s) => MvtValue::Str(s),
    }
}

/// The layers served as tiles: `areas` (with public need attributes) and each boundary set.
pub fn tile_layers(atlas: &Atlas, public: &PublicRelease) -> Vec<TileLayer> {
    let need = &public.need;
    let d = Disclosure::Public(&public.counts);
    let mut layers = Vec::new();
    let geoms: Vec<&geo::MultiPolygon<f64>> =
        atlas.areas.iter().map(|a| &a.geometry_wgs84).collect();
    let props = atlas
        .areas
        .iter()
        .zip(&need.areas)
        .map(|(a, n)| {
            let mut p: Props = vec![("area_id", MvtValue::Str(a.code.clone()))];
            if let Some(name) = &a.name {
                p.push(("name", MvtValue::Str(name.clone())));
            }
            let c = public.counts.area(n.area.index());
            if let Some(r) = d.rate_per_1000(&c, n.population, n.rate_per_1000) {
                p.push(("rate_per_1000", MvtValue::Double(r)));
            }
            p.push(("referrals", count_value(c)));
            if let Some(s) = n.need_score {
                p.push(("need_score", MvtValue::Double((s * 100.0).round() / 100.0)));
            }
            if let Some(simd) = a.simd {
                p.push(("simd_decile", MvtValue::Int(i64::from(simd.decile))));
                p.push(("simd_quintile", MvtValue::Int(i64::from(simd.quintile))));
            }
            p
        })
        .collect();
    layers.push(TileLayer {
        name: "areas".into(),
        geometry: TileGeometry::new(&geoms),
        props,
        fields: json!({"area_id": "String", "name": "String", "referrals": "Number or <10", "rate_per_1000": "Number", "need_score": "Number", "simd_decile": "Number", "simd_quintile": "Number"}),
    });
    for set in &atlas.boundary_sets {
        let geoms: Vec<&geo::MultiPolygon<f64>> =
            set.units.iter().map(|u| &u.geometry_wgs84).collect();
        let props = set
            .units
            .iter()
            .map(|u| {
                let mut p: Props = vec![("boundary_id", MvtValue::Str(u.code.clone()))];
                if let Some(n) = &u.name {
                    p.push(("name", MvtValue::Str(n.clone())));
                }
                p
            })
            .collect();
        layers.push(TileLayer {
            name: set.name.clone(),
            geometry: TileGeometry::new(&geoms),
            props,
            fields: json!({"boundary_id": "String", "name": "String"}),
        });
    }
    layers
}

/// Tiles made by the store's database (`[store] tiles = "postgis"`).
#[cfg(feature = "postgis")]
pub type DbTiles = crate::io::pgtiles::PgTiles;
/// Tiles made by the store's database (none without the `postgis` feature).
#[cfg(not(feature = "postgis"))]
#[derive(Debug)]
pub enum DbTiles {}

/// The database's tiles when the workspace asks for them: the layers are
/// written to it (when changed) first. `None`, logged, if that fails: the
/// server then cuts the tiles itself.
pub fn db_tiles(atlas: &Atlas, layers: &[TileLayer]) -> Option<DbTiles> {
    if atlas.config.store.tiles.as_deref() != Some("postgis") {
        return None;
    }
    #[cfg(feature = "postgis")]
    {
        let url = atlas.config.store.url.as_deref()?;
        let json = |p: &Props| -> Value {
            let m: serde_json::Map<String, Value> = p
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        MvtValue::Str(s) => json!(s),
                        MvtValue::Int(i) => json!(i),
                        MvtValue::Double(d) => json!(d),
                    };
                    (k.to_string(), v)
                })
                .collect();
            Value::Object(m)
        };
        let mut rows = Vec::new();
        for l in layers {
            let geoms: Vec<&geo::MultiPolygon<f64>> = if l.name == "areas" {
                atlas.areas.iter().map(|a| &a.geometry_wgs84).collect()
            } else {
                match atlas.boundary_sets.iter().find(|b| b.name == l.name) {
                    Some(b) => b.units.iter().map(|u| &u.geometry_wgs84).collect(),
                    None => continue,
                }
            };
            rows.push(crate::io::pgtiles::LayerRows {
                name: &l.name,
                features: geoms.into_iter().zip(l.props.iter().map(json)).collect(),
            });
        }
        match crate::io::pgtiles::PgTiles::publish(url, &rows) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!("tiles from PostGIS are off, the server cuts them: {e}");
                None
            }
        }
    }
    #[cfg(not(feature = "postgis"))]
    {
        let _ = layers;
        None
    }
}

/// Cut and encode a tile; gzip it when `gzip` (the cache keeps both forms).
fn make_tile(layer: &TileLayer, z: u8, x: u32, y: u32, gzip: bool) -> Tile {
    let polys = layer.geometry.tile(z, x, y);
    if polys.is_empty() {
        return Tile {
            raw: Bytes::new(),
            gzip: Bytes::new(),
        };
    }
    let raw = encode_polygon_layer(&layer.name, &polys, |f| {
        (u64::from(f), layer.props[f as usize].clone())
    });
    finish(raw, gzip)
}

/// A tile from the database's tiles.
#[cfg(feature = "postgis")]
fn db_tile(db: &DbTiles, layer: &str, z: u8, x: u32, y: u32, gzip: bool) -> Result<Tile, ApiError> {
    let raw = db
        .tile(layer, z, x, y)
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(finish(raw, gzip))
}

/// A tile's bytes, and gzipped when `gzip`.
fn finish(raw: Vec<u8>, gzip: bool) -> Tile {
    if raw.is_empty() {
        return Tile {
            raw: Bytes::new(),
            gzip: Bytes::new(),
        };
    }
    if !gzip {
        return Tile {
            raw: Bytes::from(raw),
            gzip: Bytes::new(),
        };
    }
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 2),
        flate2::Compression::new(6),
    );
    let gzip = match gz.write_all(&raw).and_then(|_| gz.finish()) {
        Ok(b) => Bytes::from(b),
        Err(_) => Bytes::new(),
    };
    Tile {
        raw: Bytes::from(raw),
        gzip,
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q_zero
        })
}

fn parse_tile_path(z: &str, x: &str, y: &str) -> Result<(u8, u32, u32), ApiError> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let bad = || {
        ApiError::BadRequest(format!(
            "tile {z}/{x}/{y} is not a tile: z 0-{MAX_ZOOM}, x and y 0 to 2^z - 1"
        ))
    };
    let z: u8 = z.parse().map_err(|_| bad())?;
    let x: u32 = x.parse().map_err(|_| bad())?;
    let yv: u32 = y.parse().map_err(|_| bad())?;
    if !valid_tile(z, x, yv) {
        return Err(bad());
    }
    Ok((z, x, yv))
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`
pub async fn tile(
    State(s): State<AppState>,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let li = s
        .tiles
        .iter()
        .position(|l| l.name == layer)
        .ok_or_else(|| ApiError::NotFound(format!("no tile layer {layer:?}")))?;
    let (z, x, y) = parse_tile_path(&z, &x, &y)?;
    let key = (li as u16, z, x, y);
    let wants_gzip = accepts_gzip(&headers);
    let t = match s.tile_cache.get(&key) {
        Some(t) => t,
        None => {
            let state = s.clone();
            // With the cache on, make both forms once; without it, only what was asked for.
            let gzip = wants_gzip || s.tile_cache.enabled();
            let t = tokio::task::spawn_blocking(move || -> Result<Arc<Tile>, ApiError> {
                #[cfg(feature = "postgis")]
                if let Some(db) = &state.db_tiles {
                    return db_tile(db, &state.tiles[li].name, z, x, y, gzip).map(Arc::new);
                }
                Ok(Arc::new(make_tile(&state.tiles[li], z, x, y, gzip)))
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
            s.tile_cache.put(key, t.clone());
            t
        }
    };
    let ctype = HeaderValue::from_static("application/vnd.mapbox-vector-tile");
    let cache = HeaderValue::from_static("public, max-age=300");
    if t.raw.is_empty() {
        return Ok((StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, cache)]).into_response());
    }
    let vary = HeaderValue::from_static("accept-encoding");
    if wants_gzip && !t.gzip.is_empty() {
        Ok((
            [
                (header::CONTENT_TYPE, ctype),
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                (header::CACHE_CONTROL, cache),
                (header::VARY, vary),
            ],
            t.gzip.clone(),
        )
            .into_response())
    } else {
        Ok((
            [
                (header::CONTENT_TYPE, ctype),
                (header::CACHE_CONTROL, cache),
                (header::VARY, vary),
            ],
            t.raw.clone(),
        )
            .into_response())
    }
}

/// `GET /tiles/{layer}.json`: TileJSON 3.0.
pub async fn tilejson(
    State(s): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let layer = name
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NotFound(format!("no route /tiles/{name}")))?;
    let l = s
        .tiles
        .iter()
        .find(|l| l.name == layer)
        .ok_or_else(|| ApiError::NotFound(format!("no tile layer {layer:?}")))?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .unwrap_or("127.0.0.1:8080");
    let b = s.atlas.bbox_wgs84();
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": l.name,
        "tiles": [format!("http://{host}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", l.name)],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": b,
        "attribution": s.atlas.config.attribution,
        "vector_layers": [{"id": l.name, "fields": l.fields, "minzoom": 0, "maxzoom": MAX_ZOOM}],
    })))
}

/// The `tiles` field of [`super::Prepared`].
pub type TileLayers = Vec<TileLayer>;
