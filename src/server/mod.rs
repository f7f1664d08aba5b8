//! HTTP server: the JSON/GeoJSON API under `/api` and the web map from
//! `web/dist`. State is an immutable prepared atlas shared by `Arc`; heavy
//! responses are built once at start-up. Every response carries only
//! disclosure-controlled aggregates (the public role): never a referral point.

pub mod boundaries;
pub mod error;
pub mod export;
pub mod hours;
pub mod openapi;
pub mod ratelimit;
pub mod referrals;
pub mod routes;
pub mod scenarios;
pub mod siting;
pub mod tiles;
pub mod trends;
pub mod uploads;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;

use crate::analysis::{equity_table, need_map, EquityTable, NeedMap};
use crate::config::Config;
use crate::demo::{write_demo, DemoSpec};
use crate::io::workspace::{load_workspace, Atlas, LoadOptions};
use crate::privacy::Policy;

/// Largest request body accepted (bytes).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Time allowed for one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared state shared by all requests.
pub struct Prepared {
    pub atlas: Atlas,
    pub need: NeedMap,
    pub equity: EquityTable,
    pub policy: Policy,
    /// Every referral count the public sees, protected together, and the
    /// need map as the public sees it.
    pub public: crate::io::publish::PublicRelease,
    /// The public areas GeoJSON, serialised once.
    pub areas_geojson: bytes::Bytes,
    /// `{"areas": [properties...]}` without geometry.
    pub areas_attributes: bytes::Bytes,
    pub premises_geojson: bytes::Bytes,
    /// Polygon layers prepared for vector tiles (`areas` first, then the boundary sets).
    pub tiles: tiles::TileLayers,
    /// Tiles cut by the store's database instead (`[store] tiles = "postgis"`).
    pub db_tiles: Option<tiles::DbTiles>,
    pub tile_cache: tiles::TileCache,
    /// Access results by `kind|threshold|desert_below`.
    pub access_cache: std::sync::Mutex<std::collections::HashMap<String, bytes::Bytes>>,
    /// Hours analyses by kind, threshold and group or decay.
    pub hours_cache: hours::HoursCache,
    /// Trends, hot spots, projections and early warnings by parameters (exact).
    pub trends_cache: trends::TrendsCache,
    /// Co-terminosity and designer results by parameters.
    pub boundary_cache: std::sync::Mutex<std::collections::HashMap<String, bytes::Bytes>>,
    /// Users with their roles (from `[auth]`).
    pub users: crate::privacy::auth::Users,
    /// The audit log of raw-data access.
    pub audit: crate::privacy::audit::AuditLog,
    /// Masking of points for planners (`None` when no secret could be had).
    pub masker: Option<crate::privacy::auth::Masker>,
    /// Requests in flight, and the most allowed before shedding.
    pub in_flight: std::sync::atomic::AtomicUsize,
    pub max_in_flight: usize,
    /// Per-client rate limits.
    pub rate_limiter: ratelimit::RateLimiter,
    /// Held while a scenario file is written or deleted.
    pub scenario_lock: std::sync::Mutex<()>,
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Bytes of finished tiles kept in memory (0 disables the cache).
    pub tile_cache_bytes: usize,
    /// Requests handled at once; more are refused at once with 503 (load shedding,
    /// not a queue). `/api/health` is never shed.
    pub max_in_flight: usize,
    /// Requests a second per client address (0: no limit), and the burst allowed.
    pub client_rate_per_s: f64,
    pub client_burst: f64,
    /// A reverse proxy whose `X-Forwarded-For` names the client.
    pub trusted_proxy: Option<std::net::IpAddr>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tile_cache_bytes: 512 << 20,
            max_in_flight: 1024,
            client_rate_per_s: 100.0,
            client_burst: 400.0,
            trusted_proxy: None,
        }
    }
}

/// Shared state.
pub type AppState = Arc<Prepared>;

impl Prepared {
    /// Run the analyses the API serves and serialise the big layers once.
    pub fn new(atlas: Atlas) -> Prepared {
        Prepared::with_options(atlas, &ServeOptions::default())
    }

    /// As [`Prepared::new`], with settings.
    pub fn with_options(atlas: Atlas, opts: &ServeOptions) -> Prepared {
        let need = need_map(&atlas.areas, &atlas.referrals, &atlas.config.need);
        let equity = equity_table(&atlas.areas, &need);
        let policy = atlas.config.privacy.policy();
        let public = crate::io::publish::public_release(&atlas, &need);
        let areas_geojson = crate::io::writers::need_geojson(
            &atlas.areas,
            &public.need,
            crate::privacy::Disclosure::Public(&public.counts),
        );
        let premises_geojson = routes::premises_geojson(&atlas);
        let attributes: Vec<serde_json::Value> = areas_geojson["features"]
            .as_array()
            .map(|f| f.iter().map(|x| x["properties"].clone()).collect())
            .unwrap_or_default();
        let areas_attributes =
            bytes::Bytes::from(serde_json::json!({ "areas": attributes }).to_string());
        let tiles = tiles::tile_layers(&atlas, &public);
        let db_tiles = tiles::db_tiles(&atlas, &tiles);
        Prepared {
            tiles,
            db_tiles,
            tile_cache: tiles::TileCache::new(opts.tile_cache_bytes),
            access_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            hours_cache: hours::HoursCache::default(),
            trends_cache: trends::TrendsCache::default(),
            scenario_lock: std::sync::Mutex::new(()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            max_in_flight: opts.max_in_flight,
            rate_limiter: ratelimit::RateLimiter::new(
                opts.client_rate_per_s,
                opts.client_burst,
                opts.trusted_proxy,
            ),
            users: crate::privacy::auth::Users::from_config(&atlas.config.auth).unwrap_or_default(),
            // Servers sharing a store keep one trail in it; otherwise a file.
            audit: if atlas.config.store.url.is_some() {
                let cfg = atlas.config.clone();
                crate::privacy::audit::AuditLog::with_sink(Box::new(move |record| {
                    let mut store = crate::io::store::open_store(&cfg, true)
                        .map_err(|e| e.to_string())?
                        .ok_or("no store")?;
                    store.append_audit(record).map_err(|e| e.to_string())
                }))
            } else {
                crate::privacy::audit::AuditLog::new(
                    atlas.config.resolve(
                        atlas
                            .config
                            .auth
                            .audit_log
                            .as_deref()
                            .unwrap_or(Path::new("audit.jsonl")),
                    ),
                )
            },
            masker: mask_secret(&atlas.config).map(|s| {
                let [lo, hi] = atlas.config.auth.mask_m.unwrap_or([100.0, 400.0]);
                crate::privacy::auth::Masker::new(s, lo, hi)
            }),
            boundary_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            areas_geojson: bytes::Bytes::from(areas_geojson.to_string()),
            premises_geojson: bytes::Bytes::from(premises_geojson.to_string()),
            areas_attributes,
            atlas,
            need,
            equity,
            policy,
            public,
        }
    }
}

/// The masking secret: read from `[auth] secret_file` (default `.needmap-secret`
/// beside the workspace), created with 32 random bytes (mode 0600) when absent.
fn mask_secret(cfg: &Config) -> Option<Vec<u8>> {
    let path = cfg.resolve(
        cfg.auth
            .secret_file
            .as_deref()
            .unwrap_or(Path::new(".needmap-secret")),
    );
    if let Ok(b) = std::fs::read(&path) {
        if b.len() >= 16 {
            return Some(b);
        }
    }
    let mut b = vec![0u8; 32];
    crate::privacy::auth::random_bytes(&mut b).ok()?;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let written = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(&b).and_then(|_| f.sync_all()));
    match written {
        Ok(()) => Some(b),
        // Someone else created it meanwhile: read theirs.
        Err(_) => std::fs::read(&path).ok().filter(|x| x.len() >= 16),
    }
}

/// Load shedding: beyond `max_in_flight` requests at once, answer 503 at once
/// (with `Retry-After`) rather than queue, so latency stays bounded under
/// overload. Liveness checks always pass.
async fn shed(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use std::sync::atomic::Ordering;
    if req.uri().path() == "/api/health" {
        return next.run(req).await;
    }
    struct Guard<'a>(&'a std::sync::atomic::AtomicUsize);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::AcqRel);
        }
    }
    let n = s.in_flight.fetch_add(1, Ordering::AcqRel);
    let _guard = Guard(&s.in_flight);
    if n >= s.max_in_flight {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
            axum::Json(serde_json::json!({"error": "overloaded", "message": "too many requests at once; try again shortly"})),
        )
            .into_response();
    }
    next.run(req).await
}

/// Who is asking: the `Authorization: Bearer` token checked against `[auth]`
/// users (anonymous without one); a token matching no user is refused with 401.
async fn authenticate(
    axum::extract::State(s): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_string());
    match s.users.authenticate(header.as_deref()) {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(m) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            axum::Json(serde_json::json!({"error": "unauthorized", "message": m})),
        )
            .into_response(),
    }
}

/// The router: `/api/...` and, when `web_dir` is given, the web map.
pub fn router(state: AppState, web_dir: Option<&Path>) -> Router {
    let api = Router::new()
        .route("/health", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .route("/meta", get(routes::meta))
        .route("/areas", get(routes::areas))
        .route("/areas/{id}", get(routes::area))
        .route("/equity", get(routes::equity))
        .route("/rollup", get(routes::rollup))
        .route("/premises", get(routes::premises))
        .route(
            "/premises/{id}",
            get(uploads::premises_get).put(uploads::premises_put),
        )
        .route("/boundaries", get(routes::boundary_sets))
        .route("/boundaries/{name}", get(routes::boundary_set))
        .route("/search", get(routes::search))
        .route("/access", get(routes::access))
        .route("/gaps", get(routes::gaps))
        .route("/premises/{id}/reach", get(routes::premises_reach))
        .route(
            "/premises/{id}/isochrones",
            get(routes::premises_isochrones),
        )
        .route("/premises/{id}/hours", get(routes::premises_hours))
        .route("/areas/{id}/hours", get(hours::area_hours))
        .route("/hours/gap", get(hours::gap))
        .route("/hours/access", get(hours::access))
        .route("/hours/extensions", get(hours::extensions))
        .route("/signpost", get(hours::signpost))
        .route("/siting", get(siting::siting))
        .route("/coterminosity", get(boundaries::coterminosity))
        .route("/coterminosity/splits", get(boundaries::splits))
        .route("/design", get(boundaries::design))
        .route("/trends", get(trends::trends))
        .route("/hotspots", get(trends::hotspots))
        .route("/projection", get(trends::projection))
        .route("/early-warning", get(trends::early_warning))
        .route("/referrals", get(referrals::referrals))
        .route(
            "/uploads/referrals",
            axum::routing::post(uploads::referrals).layer(uploads::upload_limit()),
        )
        .route(
            "/uploads/premises/{layer}",
            axum::routing::post(uploads::premises_layer).layer(uploads::upload_limit()),
        )
        .route(
            "/uploads/boundaries/{name}",
            axum::routing::post(uploads::boundary_set).layer(uploads::upload_limit()),
        )
        .route("/scenarios", get(scenarios::list))
        .route("/scenarios/compare", get(scenarios::compare))
        .route(
            "/scenarios/{name}",
            get(scenarios::get)
                .put(scenarios::put)
                .delete(scenarios::delete),
        )
        .fallback(routes::api_not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        // `?format=csv|geojson|gpkg`: runs the route (authenticated as above),
        // then converts its disclosure-controlled JSON.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            export::export,
        ));
    let mut app = Router::new()
        .nest("/api", api)
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tiles::tile))
        .route("/tiles/{name}", get(tiles::tilejson));
    app = match web_dir {
        Some(dir) if dir.join("index.html").is_file() => {
            let index = ServeFile::new(dir.join("index.html"));
            app.fallback_service(ServeDir::new(dir).not_found_service(index))
        }
        _ => app.fallback(no_web_map),
    };
    // JSON bodies are held to MAX_BODY_BYTES by the extractors; uploads have
    // their own larger limit, which the stream limit must allow.
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(uploads::MAX_UPLOAD_BYTES))
        .layer(axum::middleware::from_fn(declared_length))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Gzip request bodies are inflated outside the limits above, so the
        // limits count inflated bytes: a gzip bomb stops at MAX_BODY_BYTES.
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), shed))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// A declared body longer than the route takes is refused before it is read:
/// 1 MiB, or 64 MiB for uploads.
async fn declared_length(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let max = if req.uri().path().starts_with("/api/uploads/") {
        uploads::MAX_UPLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({"error": "too_large", "message": format!("the request body is larger than {max} bytes")})),
        )
            .into_response();
    }
    next.run(req).await
}

/// Errors made by middleware (time-outs, body limits) as JSON like every other error.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype.starts_with("application/json") || ctype.starts_with("text/html") {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        s if s.is_server_error() => ("internal", "internal error".to_string()),
        s => (
            "bad_request",
            s.canonical_reason().unwrap_or("bad request").to_string(),
        ),
    };
    (
        status,
        axum::Json(serde_json::json!({"error": code, "message": message})),
    )
        .into_response()
}

async fn no_web_map() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        "<!doctype html><title>needmap</title><p>The web map is not built. Run <code>scripts/run</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>). The API is at <a href=\"/api/meta\">/api/meta</a>.</p>",
    )
        .into_response()
}

/// Load a workspace, or write and load the embedded demo region when none is given.
pub fn load_atlas(config: Option<&Path>) -> anyhow::Result<Atlas> {
    load_atlas_from(&workspace_file(config)?)
}

/// The workspace file to serve: the one given, or the demo region written to
/// a temporary folder.
pub fn workspace_file(config: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(match config {
        Some(p) => p.to_path_buf(),
        None => {
            let spec = DemoSpec::default();
            let dir = std::env::temp_dir().join(format!(
                "needmap-demo-{}-{}-{}-{}",
                std::process::id(),
                spec.seed,
                spec.areas,
                spec.referrals
            ));
            let summary = write_demo(&dir, &spec)?;
            eprintln!(
                "no workspace given: serving the synthetic demo region ({} areas, {} referrals)",
                summary.areas, summary.referrals
            );
            summary.config
        }
    })
}

/// Load a workspace file, reporting its problems on stderr.
pub fn load_atlas_from(config: &Path) -> anyhow::Result<Atlas> {
    let cfg = Config::load(config)?;
    match load_workspace(
        &cfg,
        &LoadOptions {
            progress: true,
            ..LoadOptions::default()
        },
    ) {
        Ok(a) => {
            if !a.report.diagnostics.is_empty() {
                eprintln!("{}", a.report);
            }
            Ok(a)
        }
        Err(report) => {
            eprintln!("{report}");
            anyhow::bail!("the workspace has errors (listed above)")
        }
    }
}

/// `needmap serve`: load, prepare, listen until SIGINT or SIGTERM.
pub fn run_cli(
    config: Option<&Path>,
    addr: &str,
    web: &Path,
    opts: &ServeOptions,
) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let addr: SocketAddr = addr
        .parse()
        .with_context(|| format!("--addr {addr:?} is not an address such as 127.0.0.1:8080"))?;
    let file = workspace_file(config)?;
    // The store's generation before the load, so that nothing stored during it is missed.
    let cfg = Config::load(&file)?;
    let generation = uploads::store_generation(&cfg);
    let refresh = std::time::Duration::from_secs_f64(cfg.store.refresh_s.unwrap_or(2.0).max(0.0));
    let atlas = load_atlas_from(&file)?;
    let state: AppState = Arc::new(Prepared::with_options(atlas, opts));
    let web_dir: Option<PathBuf> = web.join("index.html").is_file().then(|| web.to_path_buf());
    if web_dir.is_none() {
        eprintln!(
            "warning: no built web map at {} (run scripts/run); serving the API only",
            web.display()
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        eprintln!(
            "needmap: {} at http://{}/",
            state.atlas.region,
            listener.local_addr()?
        );
        // Served through the swap, so that uploads can replace the state.
        let live = uploads::LiveApp::new(state, file, web_dir, opts.clone());
        live.set_generation(generation);
        live.spawn_refresh(refresh);
        let app = live
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        eprintln!("needmap: stopped");
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
