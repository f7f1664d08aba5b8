//! Uploads through the API, and the atlas swapped in after each one.
//!
//! `POST /api/uploads/referrals` (a data steward's referral extract, CSV):
//! the extract is validated in full by loading the workspace with it (every
//! problem named by row, 422, nothing stored); then stored in one
//! transaction in the workspace store (`io::store`), with the request's
//! `Idempotency-Key` so that a retried upload is answered from the first
//! instead of stored twice; then the workspace is loaded again (as a restart
//! would load it) and the new prepared state swapped in. Requests already
//! running finish on the state they started with; none is dropped.
//!
//! [`LiveApp`] is the swap: an outer router whose every request goes to the
//! current inner router.

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
use crate::io::store::{Put, Store};
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
        })
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
    let key = idempotency_key(&headers)?;
    let Some(Extension(live)) = live else {
        return Err(ApiError::Unavailable(
            "uploads need the server as `needmap serve` runs it".into(),
        ));
    };
    if s.atlas.config.referrals.is_none() {
        return Err(ApiError::BadRequest(
            "the workspace has no [referrals] section saying which columns an extract has".into(),
        ));
    }
    let user = who.name.clone();
    tokio::task::spawn_blocking(move || apply(&live, key.as_deref(), &body, &user))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

fn apply(
    live: &LiveApp,
    key: Option<&str>,
    body: &[u8],
    user: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let _one = live.uploading.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = Config::load(&live.config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let store_path = cfg.store_path();
    // A replay is answered before any work.
    if let Some(k) = key {
        if store_path.is_file() {
            let store = Store::open(&store_path).map_err(|e| ApiError::Internal(e.to_string()))?;
            if let Some((u, _)) = store
                .uploads()
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .into_iter()
                .find(|(u, _)| u.idempotency_key.as_deref() == Some(k))
            {
                if u.sha256 != crate::io::store::sha256_hex(body) {
                    return Err(ApiError::Conflict(format!(
                        "Idempotency-Key {k:?} was used for a different upload (#{})",
                        u.id
                    )));
                }
                return Ok((StatusCode::OK, Json(json!({"upload": u, "replayed": true}))));
            }
        }
    }
    // Validate in full: the workspace loaded with this extract in place of the file.
    let tmp = std::env::temp_dir().join(format!(
        "needmap-candidate-{}-{}.csv",
        std::process::id(),
        crate::io::store::sha256_hex(body).get(..16).unwrap_or("x")
    ));
    std::fs::write(&tmp, body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut trial = cfg.clone();
    if let Some(r) = trial.referrals.as_mut() {
        r.path = tmp.clone();
    }
    trial.store.path = Some(std::env::temp_dir().join("needmap-no-store.gpkg"));
    let loaded = load_workspace(&trial, &LoadOptions::default());
    let _ = std::fs::remove_file(&tmp);
    let atlas = match loaded {
        Ok(a) => a,
        Err(report) => {
            let problems: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::io::report::Severity::Error)
                .map(|d| d.to_string().replace(&tmp.display().to_string(), "upload"))
                .collect();
            return Err(ApiError::Unprocessable(format!(
                "the extract was not stored: {}",
                problems.join("; ")
            )));
        }
    };
    let rows = atlas.referrals.referrals.len();
    let mut store = Store::open(&store_path).map_err(|e| ApiError::Internal(e.to_string()))?;
    let put = store
        .put("referrals", key, body, rows, user)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    drop(store);
    let (u, replayed) = match put {
        Put::Stored(u) => (u, false),
        Put::Replayed(u) => (u, true),
    };
    if replayed {
        return Ok((StatusCode::OK, Json(json!({"upload": u, "replayed": true}))));
    }
    // The validated atlas is what a restart would load (the store's newest
    // extract is this one), under the workspace's own settings: swap it in.
    let mut atlas = atlas;
    atlas.config = cfg;
    live.swap(Arc::new(Prepared::with_options(atlas, &live.opts)));
    Ok((
        if replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(json!({"upload": u, "replayed": replayed, "applied": true})),
    ))
}

/// The body limit for uploads (other routes keep the 1 MiB limit).
pub fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES)
}
