//! `needmap export --result PATH | --layer NAME --out FILE [--format F] [--exact]`:
//! any API result written as CSV, GeoJSON or GeoPackage. The route is run
//! in-process through the server's own router, so the file holds exactly what
//! the API would answer the same role (public, or a planner with `--exact`),
//! after disclosure control, converted by `server::export`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use axum::body::Body;
use axum::http::{header, Request};
use tower::ServiceExt;

use crate::io::export::Format;
use crate::io::workspace::Atlas;
use crate::privacy::Role;
use crate::server::{router, Prepared};

/// What to export, checked before the workspace is loaded.
pub struct Plan {
    /// The request path and query, as given (under `/api`).
    path: String,
    /// The same with `format=`.
    uri: String,
    format: Format,
    out: PathBuf,
    exact: bool,
}

impl Plan {
    pub fn new(
        result: Option<&str>,
        layer: Option<&str>,
        format: Option<&str>,
        out: Option<PathBuf>,
        exact: bool,
    ) -> anyhow::Result<Plan> {
        let out = out.ok_or_else(|| {
            anyhow!("give --out FILE (with --result or --layer), or --gpkg FILE for the workspace's layers")
        })?;
        let format = match format {
            Some(f) => Format::parse(f)
                .ok_or_else(|| anyhow!("--format {f:?}: use csv, geojson or gpkg"))?,
            None => Format::from_path(&out).ok_or_else(|| {
                anyhow!(
                    "--out {}: cannot tell the format from the extension; give --format csv, geojson or gpkg",
                    out.display()
                )
            })?,
        };
        let path = match (result, layer) {
            (Some(r), None) => {
                let r = r.trim();
                if !r.starts_with('/') {
                    bail!("--result {r:?}: give an API path such as '/api/hours/gap?kind=gp'");
                }
                if r.starts_with("/api/") {
                    r.to_string()
                } else {
                    format!("/api{r}")
                }
            }
            (None, Some("areas")) => "/api/areas".into(),
            (None, Some("premises")) => "/api/premises".into(),
            (None, Some("equity")) => "/api/equity".into(),
            (None, Some(set)) => format!("/api/boundaries/{set}"),
            (None, None) => bail!("give --result PATH, --layer NAME or --gpkg FILE"),
            (Some(_), Some(_)) => bail!("give --result or --layer, not both"),
        };
        let (p, q) = path.split_once('?').unwrap_or((&path, ""));
        if q.split('&')
            .any(|kv| kv == "format" || kv.starts_with("format="))
        {
            bail!("--result {path:?}: give the format with --format, not in the path");
        }
        let sep = if q.is_empty() { "" } else { "&" };
        let uri = format!("{p}?{q}{sep}format={}", format.extension());
        Ok(Plan {
            path,
            uri,
            format,
            out,
            exact,
        })
    }

    /// Run the route on a loaded workspace and write the file.
    pub fn run(self, atlas: Atlas) -> anyhow::Result<ExitCode> {
        let mut prepared = Prepared::new(atlas);
        let token = if self.exact {
            Some(
                prepared
                    .users
                    .add_session("needmap export --exact", Role::Planner)
                    .map_err(|e| anyhow!("cannot act as a planner: {e}"))?,
            )
        } else {
            None
        };
        let app = router(Arc::new(prepared), None);
        let mut req = Request::builder().method("GET").uri(&self.uri);
        if let Some(t) = &token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(Body::empty())
            .with_context(|| format!("{} is not a usable request path", self.uri))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (status, body) = rt.block_on(async move {
            let resp = app.oneshot(req).await.map_err(|e| anyhow!("{e}"))?;
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .map_err(|e| anyhow!("reading the result: {e}"))?;
            anyhow::Ok((status, body))
        })?;
        let shown = &self.path;
        if !status.is_success() {
            let msg = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            bail!("{shown}: {} ({})", msg, status.as_u16());
        }
        crate::io::writers::write_bytes(&self.out, &body)?;
        eprintln!(
            "wrote {} ({}, {} bytes) from {shown}",
            self.out.display(),
            self.format.extension(),
            body.len()
        );
        if !self.exact {
            eprintln!("counts are protected for publication; --exact gives planners exact counts");
        }
        Ok(ExitCode::SUCCESS)
    }
}
