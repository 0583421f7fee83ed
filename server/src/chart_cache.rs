//! Rendered product and chart answers, per replica, keyed by product and ETag.
//!
//! The ETag holds the product's version, which every change of price or availability bumps
//! in its own transaction, so a cached answer never outlives a price change; the minute in
//! the ETag bounds how long a chart's "now" edge, and a confirmed point's last sighting
//! (confirmations bump the version at most once a minute), can lag.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

/// How long an ETag (and the answer cached under it) lives at most: it names the minute.
pub const ETAG_MINUTE_MS: i64 = 60_000;

/// Entries kept before the cache starts over; answers are a few KB, so this is tens of MB.
const CAPACITY: usize = 20_000;

#[derive(Debug, Default)]
pub struct ChartCache {
    entries: Mutex<HashMap<(i64, String), Bytes>>,
}

impl ChartCache {
    pub fn get(&self, key: &(i64, String)) -> Option<Bytes> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: (i64, String), value: Bytes) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            // Old ETags are dead keys (their minute or version has passed): starting over is
            // cheaper than tracking recency.
            map.clear();
        }
        map.insert(key, value);
    }
}
