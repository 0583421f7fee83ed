//! How the real `pricewatch serve` process holds its memory.

#![allow(clippy::unwrap_used)]

mod process;

use process::ServerProcess;

/// Fresh transparent huge pages cost cold history requests 8–20 ms now and then (see
/// `without_transparent_huge_pages` in main.rs): the process turns them off for itself.
#[cfg(target_os = "linux")]
#[test]
fn the_server_runs_without_transparent_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pw.db").display());
    let server = ServerProcess::spawn(&url, &[]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let thp = status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(str::trim);
    assert_eq!(thp, Some("0"), "{status}");
}
