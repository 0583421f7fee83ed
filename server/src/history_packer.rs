//! The background task that packs finished days of price history into `price_days` (see
//! [`crate::store::price_days`]) so that charts read a few hundred short rows per year.
//!
//! Its first pass after start-up is also the data migration of an upgraded database: until a
//! product is packed its history is read from `price_points`, complete but slower.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::store::price_days;

/// How often finished days are packed. A day is packable once a later day has a point, so
/// this only bounds how many unpacked rows a chart reads (those of the last day or so).
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
            match price_days::pack_pass(&db.write, db.backend).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(points = n, "packed finished days of price history"),
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
