//! The background task that packs price history into `price_runs` (see
//! [`crate::store::price_runs`]) so that charts read a few dozen rows per year.
//!
//! Its first pass after start-up is also the data migration of an upgraded database: until a
//! product is packed its history is read from `price_points`, complete but slower.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::store::price_runs;

/// How often points are packed. A point is packable once a later one exists, so this only
/// bounds how many unpacked rows a chart reads (the points of the last minute or so).
const INTERVAL: Duration = Duration::from_secs(60);

pub struct Packer {
    handle: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

/// Start packing in the background.
pub fn spawn(db: Db) -> Packer {
    let (stop, mut stopped) = watch::channel(false);
    let handle = tokio::spawn(async move {
        loop {
            match price_runs::pack_pass(&db.write, db.backend).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(points = n, "packed price history into runs"),
                Err(e) => tracing::error!(error = %e, "packing price history failed"),
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = tokio::time::sleep(INTERVAL) => {}
            }
        }
    });
    Packer { handle, stop }
}

impl Packer {
    /// Stop after the current product's transaction (each product is its own, so stopping
    /// anywhere leaves consistent data).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.handle.abort_handle();
        if tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
