//! Roles and the audit log over HTTP, on a demo workspace with users:
//! anonymous and admin requests for referral points are refused, planners get
//! deterministically masked points, every steward read is in the audit log
//! before the data leaves, a tampered log fails verification, and a log that
//! cannot be written means no raw data.

use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use serde_json::Value;

use needmap::demo::{write_demo, DemoSpec};
use needmap::io::workspace::{load_workspace, LoadOptions};
use needmap::privacy::audit::verify;
use needmap::privacy::auth::hash_token;
use needmap::server::{router, AppState, Prepared};
use needmap::Config;

pub(super) const STEWARD: &str = "steward-token-0123456789";
pub(super) const PLANNER: &str = "planner-token-0123456789";
const ADMIN: &str = "admin-token-0123456789ab";

pub(super) struct Fx {
    pub(super) state: AppState,
    pub(super) dir: tempfile::TempDir,
}

fn load(dir: &std::path::Path, extra: &str) -> AppState {
    let toml = dir.join("needmap.toml");
    let mut text = std::fs::read_to_string(&toml).expect("toml");
    text.push_str(extra);
    let path = dir.join("auth.toml");
    std::fs::write(&path, text).expect("write");
    let cfg = Config::load(&path).expect("config");
    let atlas = load_workspace(&cfg, &LoadOptions::default()).unwrap_or_else(|r| panic!("{r}"));
    Arc::new(Prepared::new(atlas))
}

pub(super) fn fx() -> &'static Fx {
    static F: OnceLock<Fx> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = DemoSpec {
            areas: 120,
            referrals: 3_000,
            seed: 3,
        };
        write_demo(dir.path(), &spec).expect("demo");
        let users = format!(
            "\n[auth]\naudit_log = \"logs/audit.jsonl\"\nusers = [\n  {{ name = \"sam\", role = \"steward\", token_hash = \"{}\" }},\n  {{ name = \"pat\", role = \"planner\", token_hash = \"{}\" }},\n  {{ name = \"ada\", role = \"admin\", token_hash = \"{}\" }},\n]\n",
            hash_token(STEWARD).expect("hash"),
            hash_token(PLANNER).expect("hash"),
            hash_token(ADMIN).expect("hash"),
        );
        let state = load(dir.path(), &users);
        Fx { state, dir }
    })
}

async fn get(state: &AppState, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let (status, _, bytes) = super::send_get(&router(state.clone(), None), uri, token).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn bbox(state: &AppState) -> String {
    let b = state.atlas.bbox_wgs84();
    format!(
        "{},{},{},{}",
        b[0] - 0.01,
        b[1] - 0.01,
        b[2] + 0.01,
        b[3] + 0.01
    )
}

#[tokio::test]
async fn anonymous_admin_and_bad_tokens_get_no_points() {
    let s = &fx().state;
    let uri = format!("/api/referrals?bbox={}&purpose=test", bbox(s));
    let (st, v) = get(s, &uri, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["features"].is_null());
    let (st, _) = get(s, &uri, Some(ADMIN)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = get(s, &uri, Some("not-a-real-token-at-all")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        !v.to_string().contains("not-a-real-token"),
        "tokens are never echoed"
    );
    // A bad token is refused everywhere, not just on raw data (default deny).
    let (st, _) = get(s, "/api/health", Some("not-a-real-token-at-all")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = get(s, "/api/health", None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn planners_get_the_same_masked_points_every_time() {
    let s = &fx().state;
    let uri = format!("/api/referrals?bbox={}", bbox(s));
    let (st, v) = get(s, &uri, Some(PLANNER)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, again) = get(s, &uri, Some(PLANNER)).await;
    assert_eq!(v, again, "masking is deterministic: nothing to average");
    let feats = v["features"].as_array().expect("features");
    let refs = &s.atlas.referrals.referrals;
    assert_eq!(feats.len(), refs.len());
    // Each masked point is 100-400 m from its referral (features are in referral order).
    for (f, r) in feats.iter().zip(refs) {
        assert!(f["properties"].get("row").is_none() && f["properties"].get("received").is_none());
        let c = &f["geometry"]["coordinates"];
        let (x, y) = needmap::spatial::crs::wgs84_to_bng(
            c[0].as_f64().expect("x"),
            c[1].as_f64().expect("y"),
        )
        .expect("bng");
        let d = ((x - r.x_m).powi(2) + (y - r.y_m).powi(2)).sqrt();
        assert!((99.0..=401.0).contains(&d), "moved {d} m");
    }
}

#[tokio::test]
async fn steward_reads_are_audited_and_a_tampered_log_fails() {
    let f = fx();
    let s = &f.state;
    let uri = format!("/api/referrals?bbox={}", bbox(s));
    let (st, _) = get(s, &uri, Some(STEWARD)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a purpose is required");
    let before = verify(s.audit.path()).map(|v| v.records).unwrap_or(0);
    let (st, v) = get(s, &format!("{uri}&purpose=case%20review"), Some(STEWARD)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), s.atlas.referrals.referrals.len());
    assert!(
        feats[0]["properties"]["row"].is_number(),
        "raw rows for the steward"
    );
    let log = std::fs::read_to_string(s.audit.path()).expect("log");
    let last: Value = serde_json::from_str(log.lines().last().expect("a line")).expect("json");
    assert_eq!(last["user"], "sam");
    assert_eq!(last["purpose"], "case review");
    assert_eq!(last["rows"], feats.len());
    let ok = verify(s.audit.path()).expect("chain intact");
    assert_eq!(ok.records, before + 1);
    // Tampering: change the rows of a copy's first record.
    let copy = f.dir.path().join("tampered.jsonl");
    let mut lines: Vec<String> = log.lines().map(String::from).collect();
    lines[0] = lines[0].replacen("\"rows\":", "\"rows\":1", 1);
    std::fs::write(&copy, lines.join("\n") + "\n").expect("write");
    let err = verify(&copy).expect_err("tampered");
    assert!(err.contains("line 1"), "{err}");
    // Deleting a record breaks the chain too.
    if lines.len() > 1 {
        std::fs::write(
            &copy,
            log.lines().skip(1).collect::<Vec<_>>().join("\n") + "\n",
        )
        .expect("write");
        assert!(verify(&copy).is_err());
    }
}

#[tokio::test]
async fn no_audit_no_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 60,
        referrals: 500,
        seed: 4,
    };
    write_demo(dir.path(), &spec).expect("demo");
    // The audit log path is a directory: it cannot be written.
    std::fs::create_dir(dir.path().join("audit-dir")).expect("dir");
    let extra = format!(
        "\n[auth]\naudit_log = \"audit-dir\"\nusers = [{{ name = \"sam\", role = \"steward\", token_hash = \"{}\" }}]\n",
        hash_token(STEWARD).expect("hash")
    );
    let s = load(dir.path(), &extra);
    let (st, v) = get(
        &s,
        &format!("/api/referrals?bbox={}&purpose=review", bbox(&s)),
        Some(STEWARD),
    )
    .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(v["features"].is_null());
}

#[test]
fn bad_users_stop_the_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = DemoSpec {
        areas: 30,
        referrals: 100,
        seed: 5,
    };
    write_demo(dir.path(), &spec).expect("demo");
    for (extra, want) in [
        ("\n[auth]\nusers = [{ name = \"x\", role = \"overlord\", token_hash = \"h\" }]\n", "overlord"),
        ("\n[auth]\nusers = [{ name = \"x\", role = \"planner\", token_hash = \"plain-text-token\" }]\n", "Argon2"),
    ] {
        let mut text = std::fs::read_to_string(dir.path().join("needmap.toml")).expect("toml");
        text.push_str(extra);
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, text).expect("write");
        let cfg = Config::load(&p).expect("parses");
        let err = load_workspace(&cfg, &LoadOptions::default()).err().expect("refused");
        assert!(err.to_string().contains(want), "{err}");
    }
}

#[tokio::test]
async fn planners_see_exact_aggregates_the_public_protected_ones() {
    let s = &fx().state;
    let in_areas = s
        .atlas
        .referrals
        .referrals
        .iter()
        .filter(|r| r.area.is_some())
        .count() as f64;
    let (st, exact) = get(s, "/api/equity", Some(PLANNER)).await;
    assert_eq!(st, StatusCode::OK);
    let (_, public) = get(s, "/api/equity", None).await;
    let sum = |v: &Value| -> f64 {
        v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["referrals"].as_f64())
            .sum()
    };
    assert_eq!(sum(&exact), in_areas, "planners get exact counts");
    for r in public["rows"].as_array().expect("rows") {
        let c = &r["referrals"];
        assert!(
            c == "<10" || c.as_f64().is_some_and(|x| x % 5.0 == 0.0),
            "{c}"
        );
    }
    // An area with fewer than 10 referrals: exact for the planner, "<10" for the public.
    let small = s
        .need
        .areas
        .iter()
        .find(|n| (1..10).contains(&n.referrals))
        .expect("a small count");
    let code = &s.atlas.areas[small.area.index()].code;
    let (_, p) = get(s, &format!("/api/areas/{code}"), Some(PLANNER)).await;
    assert_eq!(p["referrals"], small.referrals);
    let (_, q) = get(s, &format!("/api/areas/{code}"), None).await;
    assert_eq!(q["referrals"], "<10");
    let (_, meta) = get(s, "/api/meta", Some(PLANNER)).await;
    assert_eq!(
        (meta["role"].as_str(), meta["user"].as_str()),
        (Some("planner"), Some("pat"))
    );
    // Admins see what the public sees.
    let (_, a) = get(s, &format!("/api/areas/{code}"), Some(ADMIN)).await;
    assert_eq!(a["referrals"], "<10");
}
