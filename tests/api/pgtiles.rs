//! Vector tiles made by PostGIS from the store's database (`[store] tiles =
//! "postgis"`), checked against the server's own tiles of the same layers:
//! the same features (every area whose polygon reaches into the tile's
//! interior is in both, and neither holds an area that stays outside the
//! tile's buffer) with the same published properties.

use std::sync::Arc;

use axum::http::StatusCode;
use geo::{BoundingRect, Intersects};

use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::server::{router, Prepared, ServeOptions};
use needmap::Config;

use super::{decode_tile, tile_of};

async fn tile(app: &axum::Router, uri: &str) -> Option<Vec<u8>> {
    match super::send_get(app, uri, None).await {
        (StatusCode::NO_CONTENT, _, _) => None,
        (StatusCode::OK, _, body) => Some(body),
        (s, _, _) => panic!("{uri}: {s}"),
    }
}

/// WGS84 bounds of a tile, `[west, south, east, north]`.
fn tile_lonlat(z: u8, x: u32, y: u32) -> [f64; 4] {
    let n = f64::from(1u32 << z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    [
        lon(f64::from(x)),
        lat(f64::from(y + 1)),
        lon(f64::from(x + 1)),
        lat(f64::from(y)),
    ]
}

fn shrink(b: [f64; 4], k: f64) -> geo::Rect<f64> {
    let (dx, dy) = ((b[2] - b[0]) * k, (b[3] - b[1]) * k);
    geo::Rect::new(
        geo::coord! { x: b[0] + dx, y: b[1] + dy },
        geo::coord! { x: b[2] - dx, y: b[3] - dy },
    )
}

fn same_value(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    }
}

// A plain test: the PostgreSQL client blocks, so it is used outside the
// runtime, and the runtime serves the routes.
#[test]
fn tiles_made_by_postgis_in_the_store_match_the_servers_own() {
    let Some(url) = super::pg_url() else {
        return;
    };
    let (url, drop_db) = super::pg_database(&url, "tiles");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 120,
        referrals: 2_000,
        seed: 5,
    };
    let summary = write_demo(dir.path(), &spec).expect("demo");
    let base = Config::load(&summary.config).expect("config");
    let own = base.clone();
    let mut text = std::fs::read_to_string(&summary.config).expect("toml");
    text.push_str(&format!(
        "\n[store]\nurl = \"{url}\"\ntiles = \"postgis\"\n"
    ));
    let db_file = dir.path().join("db.toml");
    std::fs::write(&db_file, text).expect("write");
    let db_cfg = Config::load(&db_file).expect("config with postgis tiles");
    let opts = ServeOptions::default();
    let a = load_workspace(&db_cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let b = load_workspace(&own, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let state_db = Arc::new(Prepared::with_options(a, &opts));
    let state_own = Arc::new(Prepared::with_options(b, &opts));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    assert!(
        state_db.db_tiles.is_some(),
        "the layers were written to PostGIS"
    );
    assert!(state_own.db_tiles.is_none());
    let atlas = &state_own.atlas;
    let (app_db, app_own) = (
        router(state_db.clone(), None),
        router(state_own.clone(), None),
    );
    let b = atlas.bbox_wgs84();
    let layers: Vec<(String, Vec<&geo::MultiPolygon<f64>>)> = std::iter::once((
        "areas".to_string(),
        atlas.areas.iter().map(|a| &a.geometry_wgs84).collect(),
    ))
    .chain(atlas.boundary_sets.iter().map(|s| {
        (
            s.name.clone(),
            s.units.iter().map(|u| &u.geometry_wgs84).collect(),
        )
    }))
    .collect();
    let (mut tiles, mut compared) = (0, 0);
    for (name, geoms) in &layers {
        for z in [9u8, 11, 13] {
            let (x0, y0) = tile_of(b[0], b[3], z);
            let (x1, y1) = tile_of(b[2], b[1], z);
            for x in x0..=x1 {
                for y in y0..=y1 {
                    let uri = format!("/tiles/{name}/{z}/{x}/{y}.mvt");
                    let (db, mine) = rt.block_on(async {
                        (tile(&app_db, &uri).await, tile(&app_own, &uri).await)
                    });
                    let feats = |t: &Option<Vec<u8>>| {
                        t.as_deref()
                            .map(|t| {
                                let (lname, extent, f) = decode_tile(t);
                                assert_eq!((lname.as_str(), extent), (name.as_str(), 4096));
                                f
                            })
                            .unwrap_or_default()
                    };
                    let (fd, fm) = (feats(&db), feats(&mine));
                    tiles += 1;
                    let bounds = tile_lonlat(z, x, y);
                    let inner = shrink(bounds, 0.02);
                    // Each feature's buffer allowance: 64/4096 of the tile each side.
                    let outer = shrink(bounds, -64.0 / 4096.0 - 0.02);
                    for (k, g) in geoms.iter().enumerate() {
                        let id = k as u64;
                        let in_db = fd.iter().find(|f| f.id == id);
                        let in_mine = fm.iter().find(|f| f.id == id);
                        if g.intersects(&inner) {
                            let (d, m) = (
                                in_db.unwrap_or_else(|| {
                                    panic!("{uri}: feature {k} missing from PostGIS's tile")
                                }),
                                in_mine.unwrap_or_else(|| {
                                    panic!("{uri}: feature {k} missing from the server's tile")
                                }),
                            );
                            assert_eq!(
                                d.props.keys().collect::<Vec<_>>(),
                                m.props.keys().collect::<Vec<_>>(),
                                "{uri}: feature {k}"
                            );
                            for (key, v) in &m.props {
                                assert!(
                                    same_value(v, &d.props[key]),
                                    "{uri}: feature {k} {key}: {v} vs {}",
                                    d.props[key]
                                );
                            }
                            compared += 1;
                        }
                        let r = g.bounding_rect().expect("bounds");
                        if !r.intersects(&outer) {
                            assert!(
                                in_db.is_none() && in_mine.is_none(),
                                "{uri}: feature {k} is outside the tile"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(
        tiles > 20 && compared > 200,
        "{tiles} tiles, {compared} features compared"
    );
    drop(rt);
    drop(app_db);
    drop(state_db);
    drop_db();
    eprintln!("{tiles} tiles, {compared} features: PostGIS's tiles and the server's agree");
}
