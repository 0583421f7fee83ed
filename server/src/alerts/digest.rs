//! Daily digests: a user in digest mode gets their email alerts as one message a day.
//!
//! Their alert rows wait as `awaiting_digest`. At `alerts.digest_hour_utc` each day, the
//! worker creates one `digest` notification per such user (UNIQUE per user and day, so two
//! replicas cannot both make one) and moves the waiting alerts into it; delivery then sends
//! the digest like any other notification, with the same retries.

use pricewatch_core::{Span, Timestamp};

use crate::state::AppState;
use crate::store::notifications::{channel, kind, status};

/// Users handled per round.
const USERS_PER_ROUND: i64 = 500;

/// The start of today's digest window's end: alerts queued before it go into today's digest.
pub fn cutoff(now: Timestamp, hour_utc: i64) -> Timestamp {
    Timestamp::from_millis(now.day_index() * 86_400_000) + Span::hours(hour_utc.clamp(0, 23))
}

/// Build the digests that are due. Returns how many were created.
pub async fn build(state: &AppState) -> anyhow::Result<u64> {
    let now = state.clock.now();
    let cutoff = cutoff(now, state.settings.alerts.digest_hour_utc);
    if now < cutoff {
        return Ok(0);
    }
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT n.user_id FROM notifications n WHERE n.status = $1 AND n.created_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM notifications d WHERE d.user_id = n.user_id \
            AND d.digest_day = $3) \
         ORDER BY n.user_id LIMIT $4",
    )
    .bind(status::AWAITING_DIGEST)
    .bind(cutoff.as_millis())
    .bind(now.day_index())
    .bind(USERS_PER_ROUND)
    .fetch_all(&state.db.read)
    .await?;
    let mut built = 0;
    for user_id in users {
        let mut tx = state.db.write.begin().await?;
        let digest_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO notifications (user_id, kind, channel, content, status, next_attempt_at, \
             digest_day, created_at) VALUES ($1, $2, $3, '{}', $4, $5, $6, $5) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(user_id)
        .bind(kind::DIGEST)
        .bind(channel::EMAIL)
        .bind(status::PENDING)
        .bind(now.as_millis())
        .bind(now.day_index())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(digest_id) = digest_id else {
            // Today's digest exists (another replica, or an earlier round): later alerts wait
            // for tomorrow's.
            continue;
        };
        sqlx::query(
            // Waiting rows are alerts, found through the user's subscriptions and the dedupe
            // key: alert rows have no per-user index (migration 0008).
            "UPDATE notifications SET status = $1, digest_id = $2 \
             WHERE subscription_id IN (SELECT id FROM subscriptions WHERE user_id = $3) \
             AND user_id = $3 AND status = $4 AND created_at < $5",
        )
        .bind(status::IN_DIGEST)
        .bind(digest_id)
        .bind(user_id)
        .bind(status::AWAITING_DIGEST)
        .bind(cutoff.as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        built += 1;
        tracing::info!(user_id, digest_id, "digest built");
    }
    if built > 0 {
        state.wakeup.queued();
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_digest_hour_of_the_current_utc_day() {
        let day = 20_000 * 86_400_000_i64;
        let now = Timestamp::from_millis(day + 13 * 3_600_000 + 5);
        assert_eq!(cutoff(now, 8).as_millis(), day + 8 * 3_600_000);
        assert_eq!(cutoff(now, 30).as_millis(), day + 23 * 3_600_000);
    }
}
