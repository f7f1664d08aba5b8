//! needmap's integration tests: one test binary (h3o's `integration_tests.rs`
//! layout), with the modules under `tests/engine/` (the engine) and `tests/api/` (the HTTP API).
//!
//! Tests that read the real Scottish data in `../shared/geodata` (or
//! `$NEEDMAP_GEODATA`) skip with a printed reason when it is absent, and fail
//! when `CI=true`.

mod engine;

#[path = "api/mod.rs"]
mod api;
