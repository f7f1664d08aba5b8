//! Uploads through the API, and the atlas swapped in after each one.
//!
//! `POST /api/uploads/referrals` (a data steward's referral extract, CSV),
//! `POST /api/uploads/premises/{layer}` and `POST /api/uploads/boundaries/{name}`
//! (GeoJSON, planners and up): the upload is validated in full by loading
//! the workspace with it (every problem named by row or feature, 422,
//! nothing stored); then stored in one
//! transaction in the workspace store (`io::store`), with the request's
//! `Idempotency-Key` so that a retried upload is answered from the first
//! instead of stored twice; then the workspace is loaded again (as a restart
//! would load it) and the new prepared state swapped in. Requests already
//! running finish on the state they started with; none is dropped.
//!
//! [`LiveApp`] is the swap: an outer router whose every request goes to the
//! current inner router. It also watches the store (every `[store]
//! refresh_s`), so that servers sharing one store (PostGIS behind a load
//! balancer) each take up what was stored through another.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::error::ApiError;
use super::{router, AppState, Prepared, ServeOptions};
use crate::io::store::{open_store, upload, Target, UploadError, UploadStore, Uploaded};
use crate::io::workspace::{load_workspace, LoadOptions};
use crate::privacy::auth::Principal;
use crate::privacy::Role;
use crate::Config;

/// Largest upload, bytes.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;

/// The served state and how to rebuild it.
pub struct LiveApp {
    current: RwLock<Router>,
    config: PathBuf,
    web_dir: Option<PathBuf>,
    opts: ServeOptions,
    /// Uploads are applied one at a time.
    uploading: Mutex<()>,
    /// The store's generation (uploads, edits) the current state was loaded at.
    generation: Mutex<Option<(i64, i64)>>,
    /// The store connection the watcher keeps.
    watch: Mutex<Option<Box<dyn UploadStore>>>,
}

/// The store's generation for a workspace: `(0, 0)` with no store yet,
/// `None` when it cannot be read.
pub fn store_generation(cfg: &Config) -> Option<(i64, i64)> {
    match open_store(cfg, false) {
        Ok(None) => Some((0, 0)),
        Ok(Some(mut st)) => st.generation().ok(),
        Err(_) => None,
    }
}

impl LiveApp {
    /// Serve `state`, rebuilt from the workspace file `config` after uploads.
    pub fn new(
        state: AppState,
        config: PathBuf,
        web_dir: Option<PathBuf>,
        opts: ServeOptions,
    ) -> Arc<LiveApp> {
        let inner = router(state, web_dir.as_deref());
        Arc::new(LiveApp {
            current: RwLock::new(inner),
            config,
            web_dir,
            opts,
            uploading: Mutex::new(()),
            generation: Mutex::new(None),
            watch: Mutex::new(None),
        })
    }

    /// Say which store generation the served state was loaded at (read it
    /// before loading, so that nothing stored during the load is missed).
    pub fn set_generation(&self, g: Option<(i64, i64)>) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = g;
    }

    /// After this server stored a change of `delta` (uploads, edits): keep
    /// the served state's generation in step when nothing else was stored
    /// meanwhile; otherwise leave it, and the watcher loads again.
    fn advance(&self, before: Option<(i64, i64)>, after: Option<(i64, i64)>, delta: (i64, i64)) {
        if let (Some(b), Some(a)) = (before, after) {
            if (b.0 + delta.0, b.1 + delta.1) == a {
                self.set_generation(Some(a));
            }
        }
    }

    /// Load again if the store holds uploads or edits the served state was
    /// not loaded with (stored through another server, or `needmap upload`):
    /// whether it did.
    pub fn refresh(&self) -> Result<bool, String> {
        let _one = self.uploading.lock().unwrap_or_else(|e| e.into_inner());
        let cfg = Config::load(&self.config).map_err(|e| e.to_string())?;
        let now = {
            let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
            if watch.is_none() {
                *watch = open_store(&cfg, false).map_err(|e| e.to_string())?;
            }
            match watch.as_mut() {
                None => (0, 0),
                Some(st) => match st.generation() {
                    Ok(g) => g,
                    Err(e) => {
                        // Connect again next time (the database may have restarted).
                        *watch = None;
                        return Err(e.to_string());
                    }
                },
            }
        };
        if *self.generation.lock().unwrap_or_else(|e| e.into_inner()) == Some(now) {
            return Ok(false);
        }
        // Whether or not it loads, this generation has been tried: a store
        // that does not load (it cannot, as uploads are validated first, but
        // a database can be edited by hand) is reported once, not every tick.
        self.set_generation(Some(now));
        let atlas = load_workspace(&cfg, &LoadOptions::default()).map_err(|r| {
            format!("the store changed but the workspace does not load; still serving the state before:\n{r}")
        })?;
        self.swap(Arc::new(Prepared::with_options(atlas, &self.opts)));
        tracing::info!(
            uploads = now.0,
            edits = now.1,
            "the store changed: loaded again"
        );
        Ok(true)
    }

    /// Watch the store every `every` (none when zero), on the current runtime.
    pub fn spawn_refresh(self: &Arc<LiveApp>, every: std::time::Duration) {
        if every.is_zero() {
            return;
        }
        let live = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let l = live.clone();
                match tokio::task::spawn_blocking(move || l.refresh()).await {
                    Ok(Err(e)) => tracing::warn!("watching the store: {e}"),
                    Err(e) => tracing::warn!("watching the store: {e}"),
                    Ok(Ok(_)) => {}
                }
            }
        });
    }

    /// The outer router: each request to the current inner router.
    pub fn router(self: &Arc<LiveApp>) -> Router {
        Router::new()
            .fallback_service(Swap(self.clone()))
            .layer(Extension(self.clone()))
    }

    fn swap(&self, state: AppState) {
        let inner = router(state, self.web_dir.as_deref());
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = inner;
    }
}

#[derive(Clone)]
struct Swap(Arc<LiveApp>);

impl tower::Service<Request> for Swap {
    type Response = Response;
    type Error = Infallible;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let inner = self
            .0
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Box::pin(async move { inner.oneshot(req).await })
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1-200 visible ASCII characters".into())
        })?;
    Ok(Some(k.to_string()))
}

/// `POST /api/uploads/referrals`: a referral extract (CSV, the workspace's columns).
pub async fn referrals(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    live: Option<Extension<Arc<LiveApp>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match who.role {
        Role::Steward => {}
        Role::Public => {
            return Err(ApiError::Unauthorized(
                "uploading referrals needs a data steward's token".into(),
            ))
        }
        _ => {
            return Err(ApiError::Forbidden(
                "only data stewards upload referral extracts".into(),
            ))
        }
    }
    upload_to(&s, Target::Referrals, &who, live, &headers, body).await
}

/// `POST /api/uploads/premises/{layer}`: a premises layer (GeoJSON, the
/// layer's columns) in place of the layer's file; edits made to its
/// premises before are superseded.
pub async fn premises_layer(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    live: Option<Extension<Arc<LiveApp>>>,
    axum::extract::Path(layer): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    planner_or_up(&who, "uploading premises")?;
    upload_to(&s, Target::Premises(layer), &who, live, &headers, body).await
}

/// `POST /api/uploads/boundaries/{name}`: a boundary set (GeoJSON) in place of its file.
pub async fn boundary_set(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    live: Option<Extension<Arc<LiveApp>>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    planner_or_up(&who, "uploading boundary sets")?;
    upload_to(&s, Target::Boundaries(name), &who, live, &headers, body).await
}

fn planner_or_up(who: &Principal, what: &str) -> Result<(), ApiError> {
    match who.role {
        Role::Planner | Role::Steward | Role::Admin => Ok(()),
        Role::Public => Err(ApiError::Unauthorized(format!(
            "{what} needs a planner's token"
        ))),
    }
}

async fn upload_to(
    s: &AppState,
    target: Target,
    who: &Principal,
    live: Option<Extension<Arc<LiveApp>>>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = idempotency_key(headers)?;
    let Some(Extension(live)) = live else {
        return Err(ApiError::Unavailable(
            "uploads need the server as `needmap serve` runs it".into(),
        ));
    };
    match &target {
        Target::Premises(n) | Target::Boundaries(n) if n.is_empty() || n.len() > 200 => {
            return Err(ApiError::BadRequest(
                "a layer name has 1 to 200 characters".into(),
            ))
        }
        _ => {}
    }
    target.check(&s.atlas.config).map_err(|m| match target {
        Target::Referrals => ApiError::BadRequest(m),
        _ => ApiError::NotFound(m),
    })?;
    let user = who.name.clone();
    tokio::task::spawn_blocking(move || apply(&live, &target, key.as_deref(), &body, &user))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

fn apply(
    live: &LiveApp,
    target: &Target,
    key: Option<&str>,
    body: &[u8],
    user: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let _one = live.uploading.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = Config::load(&live.config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let before = store_generation(&cfg);
    match upload(&cfg, target, key, body, user) {
        Err(UploadError::Invalid(problems)) => Err(ApiError::Unprocessable(format!(
            "the upload was not stored: {}",
            problems.join("; ")
        ))),
        Err(UploadError::KeyReused(m)) => Err(ApiError::Conflict(m)),
        Err(UploadError::Store(m)) => Err(ApiError::Internal(m)),
        Ok(Uploaded::Replayed(u)) => {
            Ok((StatusCode::OK, Json(json!({"upload": u, "replayed": true}))))
        }
        Ok(Uploaded::Stored(u, atlas)) => {
            let after = store_generation(&cfg);
            let resets = match target {
                Target::Premises(_) => u.rows,
                _ => 0,
            };
            live.swap(Arc::new(Prepared::with_options(*atlas, &live.opts)));
            live.advance(before, after, (1, resets));
            Ok((
                StatusCode::CREATED,
                Json(json!({"upload": u, "replayed": false, "applied": true})),
            ))
        }
    }
}

/// The body limit for uploads (other routes keep the 1 MiB limit).
pub fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES)
}

fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn premises_json(p: &crate::model::Premises, version: i64) -> Value {
    json!({
        "premises_id": p.code, "name": p.name, "kind": p.kind, "services": p.services,
        "capacity": p.capacity, "provider": p.provider, "opening_hours": p.opening_hours,
        "eligibility": p.eligibility, "lon": p.lon, "lat": p.lat, "version": version,
    })
}

fn version_of(s: &Prepared, id: &str) -> Result<i64, ApiError> {
    match open_store(&s.atlas.config, false) {
        Ok(None) => Ok(0),
        Ok(Some(mut st)) => st
            .premises_version(id)
            .map_err(|e| ApiError::Internal(e.to_string())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

fn with_etag(status: StatusCode, version: i64, body: Value) -> Response {
    use axum::response::IntoResponse;
    let tag = axum::http::HeaderValue::from_str(&etag(version))
        .unwrap_or(axum::http::HeaderValue::from_static("\"v0\""));
    (status, [(axum::http::header::ETAG, tag)], Json(body)).into_response()
}

/// `GET /api/premises/{id}`: one premises' record with its version as an `ETag`.
pub async fn premises_get(
    State(s): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let p = s
        .atlas
        .premises
        .iter()
        .find(|p| p.code == id)
        .ok_or_else(|| ApiError::NotFound(format!("no premises {id:?}")))?;
    let st = s.clone();
    let id2 = id.clone();
    let v = tokio::task::spawn_blocking(move || version_of(&st, &id2))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(with_etag(StatusCode::OK, v, premises_json(p, v)))
}

/// `PUT /api/premises/{id}` with `If-Match: <ETag>`: edit a premises' record
/// (planners, data stewards and admins). Another edit since the `ETag` was
/// read: 412 with the current one, nothing changed. Without `If-Match`: 428.
pub async fn premises_put(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    live: Option<Extension<Arc<LiveApp>>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Result<Json<crate::io::store::PremisesEdit>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    match who.role {
        Role::Planner | Role::Steward | Role::Admin => {}
        Role::Public => {
            return Err(ApiError::Unauthorized(
                "editing premises needs a planner's token".into(),
            ))
        }
    }
    let Json(edit) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let Some(tag) = headers.get(axum::http::header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired(
            "send If-Match with the ETag from GET /api/premises/{id}, so that no edit overwrites another unseen".into(),
        ));
    };
    let expected: i64 = tag
        .to_str()
        .ok()
        .and_then(|t| {
            t.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .strip_prefix('v')
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::BadRequest("If-Match is not an ETag of this API (\"v<n>\")".into())
        })?;
    let Some(Extension(live)) = live else {
        return Err(ApiError::Unavailable(
            "edits need the server as `needmap serve` runs it".into(),
        ));
    };
    let mut p = s
        .atlas
        .premises
        .iter()
        .find(|p| p.code == id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no premises {id:?}")))?;
    // Check the edit on the record before anything is stored.
    edit.apply(&mut p).map_err(ApiError::Unprocessable)?;
    if let Some(h) = &p.opening_hours {
        let cal = crate::analysis::hours::holiday_calendar(
            2000,
            2100,
            &s.atlas.config.hours.extra_public_holidays,
        );
        crate::analysis::hours::Hours::parse(h, &cal).map_err(|e| {
            ApiError::Unprocessable(format!(
                "opening_hours {h:?} is not valid OSM opening_hours syntax: {e}"
            ))
        })?;
    }
    let user = who.name.clone();
    tokio::task::spawn_blocking(move || {
        let _one = live.uploading.lock().unwrap_or_else(|e| e.into_inner());
        let cfg = Config::load(&live.config).map_err(|e| ApiError::Internal(e.to_string()))?;
        let before = store_generation(&cfg);
        let mut store = open_store(&cfg, true)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::Internal("no store".into()))?;
        let value = serde_json::to_value(&edit).map_err(|e| ApiError::Internal(e.to_string()))?;
        match store
            .edit_premises(&id, expected, &value, &user)
            .map_err(|e| ApiError::Internal(e.to_string()))?
        {
            Err(current) => Ok(with_etag(
                StatusCode::PRECONDITION_FAILED,
                current,
                json!({"error": "precondition_failed", "message": format!(
                    "premises {id:?} was edited since version {expected} (now {current}); read it again and reapply your change"
                )}),
            )),
            Ok(version) => {
                let after = store.generation().ok();
                drop(store);
                let atlas = load_workspace(&cfg, &LoadOptions::default()).map_err(|r| {
                    ApiError::Internal(format!("edit stored but the workspace did not reload: {r}"))
                })?;
                let rec = atlas.premises.iter().find(|q| q.code == id).map(|q| premises_json(q, version));
                live.swap(Arc::new(Prepared::with_options(atlas, &live.opts)));
                live.advance(before, after, (0, 1));
                Ok(with_etag(StatusCode::OK, version, rec.unwrap_or(Value::Null)))
            }
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}
