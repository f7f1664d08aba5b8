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
    state_with(ServeOptions {
        max_in_flight,
        ..ServeOptions::default()
    })
}

/// A small demo workspace served with these options.
fn state_with(opts: ServeOptions) -> (needmap::server::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 30,
        referrals: 200,
        seed: 9,
    };
    let summary = write_demo(dir.path(), &spec).expect("demo");
    let cfg = Config::load(&summary.config).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
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

async fn put(
    s: &needmap::server::AppState,
    uri: &str,
    body: Vec<u8>,
    gzip: bool,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method("PUT")
        .uri(uri)
        .header("content-type", "application/json");
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    let resp = router(s.clone(), None)
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let body = to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_after_inflating_at_most_the_body_limit() {
    let (s, _dir) = state(64);
    // 256 MB of spaces inside a JSON string: about 250 KB of gzip.
    let mut inner = Vec::with_capacity(256 << 20);
    inner.extend_from_slice(b"{\"note\": \"");
    inner.resize((256 << 20) - 2, b' ');
    inner.extend_from_slice(b"\"}");
    let bomb = gzip(&inner);
    drop(inner);
    assert!(
        bomb.len() < needmap::server::MAX_BODY_BYTES,
        "{}",
        bomb.len()
    );
    let (st, body) = put(&s, "/api/scenarios/bomb", bomb, true).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    // A small gzip body is inflated and read like any other.
    let (st, body) = put(&s, "/api/scenarios/ok", gzip(b"{\"edits\": []}"), true).await;
    assert!(st.is_client_error() || st.is_success(), "{st} {body}");
    assert_ne!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // Bytes that are not gzip at all: a client error, never a 500.
    let (st, body) = put(&s, "/api/scenarios/bad", b"not gzip".to_vec(), true).await;
    assert!(st.is_client_error(), "{st} {body}");
}

#[tokio::test]
async fn huge_and_deeply_nested_documents_are_client_errors() {
    let (s, _dir) = state(64);
    // Over the limit without compression.
    let huge = format!("{{\"note\": \"{}\"}}", " ".repeat(2 << 20)).into_bytes();
    let (st, body) = put(&s, "/api/scenarios/huge", huge, false).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // 100,000 levels of nesting, well under the size limit.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let (st, body) = put(&s, "/api/scenarios/deep", deep, false).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("\"message\""), "{body}");
    // Not-a-number strings where numbers belong.
    let nan =
        br#"{"edits": [{"op": "add", "code": "X", "kind": "hub", "lon": "NaN", "lat": "inf"}]}"#;
    let (st, body) = put(&s, "/api/scenarios/nan", nan.to_vec(), false).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
}

fn limited(
    rate: f64,
    burst: f64,
    proxy: Option<&str>,
) -> (needmap::server::AppState, tempfile::TempDir) {
    state_with(ServeOptions {
        client_rate_per_s: rate,
        client_burst: burst,
        trusted_proxy: proxy.map(|p| p.parse().expect("ip")),
        ..ServeOptions::default()
    })
}

#[test]
fn spoofed_forwarding_headers_do_not_dodge_the_client_rate_limit() {
    // 5 at once, then 0.5 a second: the sixth request within the second is refused.
    let (s, _dir) = limited(0.5, 5.0, None);
    let addr = super::serve_loopback(s);
    let mut codes = Vec::new();
    for k in 0..12 {
        let fake = format!("203.0.113.{k}");
        let (st, head, body) = super::http_raw(
            addr,
            "/api/meta",
            &[
                ("X-Forwarded-For", &fake),
                ("X-Real-IP", &fake),
                ("Forwarded", &format!("for={fake}")),
            ],
        );
        if st == 429 {
            assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
            assert!(body.contains("rate_limited"), "{body}");
        }
        codes.push(st);
    }
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 429).count(), 7, "{codes:?}");
    // Liveness is never limited.
    let (st, _, _) = super::http_raw(addr, "/api/health", &[]);
    assert_eq!(st, 200);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let (s, _dir) = limited(0.5, 2.0, Some("127.0.0.1"));
    let addr = super::serve_loopback(s);
    let mut by_client = Vec::new();
    for client in ["198.51.100.1", "198.51.100.2"] {
        // The proxy appends the client it saw; anything before it is the client's own claim.
        let xff = format!("10.9.9.9, {client}");
        let codes: Vec<u16> = (0..3)
            .map(|_| super::http_raw(addr, "/api/meta", &[("X-Forwarded-For", &xff)]).0)
            .collect();
        by_client.push(codes);
    }
    assert_eq!(by_client, vec![vec![200, 200, 429], vec![200, 200, 429]]);
}
