//! Load shedding: beyond the in-flight limit the server answers 503 at once
//! (JSON, with Retry-After) instead of queueing; liveness is never shed, and
//! the count returns to zero after each request.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::server::{router, Prepared, ServeOptions};
use needmap::Config;

fn state(max_in_flight: usize) -> (needmap::server::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 30,
        referrals: 200,
        seed: 9,
    };
    let summary = write_demo(dir.path(), &spec).expect("demo");
    let cfg = Config::load(&summary.config).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    let opts = ServeOptions {
        max_in_flight,
        ..ServeOptions::default()
    };
    (Arc::new(Prepared::with_options(atlas, &opts)), dir)
}

async fn get(s: &needmap::server::AppState, uri: &str) -> (StatusCode, Option<String>, String) {
    let resp = router(s.clone(), None)
        .oneshot(
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = to_bytes(resp.into_body(), 16 << 20).await.expect("body");
    (status, retry, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn overload_is_a_fast_503_and_health_still_answers() {
    let (s, _dir) = state(0);
    let (st, retry, body) = get(&s, "/api/meta").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(body.contains("\"overloaded\""), "{body}");
    let (st, _, _) = get(&s, "/api/health").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.in_flight.load(std::sync::atomic::Ordering::Acquire), 0);
}

#[tokio::test]
async fn requests_within_the_limit_pass_and_release_their_slot() {
    let (s, _dir) = state(1);
    for _ in 0..5 {
        let (st, _, _) = get(&s, "/api/meta").await;
        assert_eq!(st, StatusCode::OK);
    }
    assert_eq!(s.in_flight.load(std::sync::atomic::Ordering::Acquire), 0);
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let (s, _dir) = state(16);
    let resp = router(s.clone(), None)
        .oneshot(
            Request::builder()
                .uri("/api/meta")
                .header("origin", "https://elsewhere.example")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers().get("access-control-allow-origin").is_none(),
        "no cross-origin reads unless configured"
    );
}
