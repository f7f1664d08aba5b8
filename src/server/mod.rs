//! HTTP server (placeholder until the server lands).

use std::path::Path;

/// Run the server from the command line.
pub fn run_cli(_config: Option<&Path>, _addr: &str, _web: &Path) -> anyhow::Result<()> {
    anyhow::bail!("serve: not built yet")
}
