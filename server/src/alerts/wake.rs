//! Held alerts: when a cooldown (or the settling time) ends, the worker re-evaluates the
//! subscriptions whose `wake_at` has come, and sends what is still true.

use pricewatch_core::alert;

use super::matching::{self, Fanout};
use crate::state::AppState;
use crate::store::subscriptions;

/// Products handled per round.
const PRODUCTS_PER_ROUND: i64 = 100;

/// Wake every due held alert. Returns how many notifications were queued.
pub async fn run(state: &AppState) -> anyhow::Result<u64> {
    let now = state.clock.now();
    let products = {
        let mut conn = state.db.read.acquire().await?;
        subscriptions::products_with_due_wakes(&mut conn, now, PRODUCTS_PER_ROUND).await?
    };
    let rules = state.settings.alerts.rules();
    let mut queued = 0;
    for product_id in products {
        let mut tx = state.db.write.begin().await?;
        // Another replica may be waking the same product: the lock makes it wait, and the
        // re-read below then finds nothing due.
        matching::lock_product(&mut tx, state.db.backend, product_id).await?;
        let due = subscriptions::due_wakes(&mut tx, product_id, now).await?;
        let mut fanout = Fanout::default();
        for c in &due {
            let step = alert::on_wake(&c.row.rules_view(), &rules, &c.row.state, now);
            fanout.add(c.row.id, &c.row.state, c.row.wake_at, step);
        }
        queued += fanout
            .write(&mut tx, state.db.backend, product_id, now)
            .await?;
        tx.commit().await?;
        tracing::debug!(product_id, woken = due.len(), "held alerts woken");
    }
    if queued > 0 {
        state.wakeup.queued();
    }
    Ok(queued)
}
