//! `crawl_hosts`: each crawled host's token bucket, back-off and counters, in the database so
//! that every replica keeps to one rate per host and sees one back-off. Times are wall-clock
//! ms; the crawler's politeness code (crate::crawler::hosts) decides, these statements only
//! make each decision atomic.

use sqlx::{AnyPool, Row};

/// A reserved request slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// When the request may leave, ms.
    pub at_ms: i64,
}

/// Take the host's next request slot under GCRA with `interval_ms` between requests and
/// `tolerance_ms` of burst, never before a back-off ends. One statement, so two replicas
/// reserving at once get two different slots.
pub async fn reserve(
    pool: &AnyPool,
    host: &str,
    now_ms: i64,
    interval_ms: i64,
    tolerance_ms: i64,
) -> Result<Slot, sqlx::Error> {
    // The new arrival time is max(tat, now, back-off end) + interval; from it (and the
    // back-off end) the slot follows without reading the old row: see `slot_from`.
    let row = sqlx::query(
        "INSERT INTO crawl_hosts (host, tat_ms, updated_at_ms) VALUES ($1, $2 + $3, $2) \
         ON CONFLICT (host) DO UPDATE SET \
           tat_ms = CASE \
             WHEN crawl_hosts.tat_ms >= $2 AND crawl_hosts.tat_ms >= COALESCE(crawl_hosts.backoff_until_ms, 0) \
               THEN crawl_hosts.tat_ms \
             WHEN $2 >= COALESCE(crawl_hosts.backoff_until_ms, 0) THEN $2 \
             ELSE crawl_hosts.backoff_until_ms END + $3, \
           updated_at_ms = $2 \
         RETURNING tat_ms, backoff_until_ms",
    )
    .bind(host)
    .bind(now_ms)
    .bind(interval_ms)
    .fetch_one(pool)
    .await?;
    let tat: i64 = row.try_get("tat_ms")?;
    let backoff: Option<i64> = row.try_get("backoff_until_ms")?;
    Ok(Slot {
        at_ms: slot_from(tat, backoff, now_ms, interval_ms, tolerance_ms),
    })
}

/// GCRA's slot from the arrival time after the reservation: with the old arrival time `t`
/// and back-off end `b`, the slot is max(now, t − tolerance, b) and the new arrival time is
/// max(t, now, b) + interval; the first equals max(now, new − interval − tolerance, b) in
/// every case (whichever of t, now and b was largest).
fn slot_from(new_tat: i64, backoff: Option<i64>, now: i64, interval: i64, tolerance: i64) -> i64 {
    now.max(new_tat - interval - tolerance)
        .max(backoff.unwrap_or(i64::MIN))
}

/// A request left at `now_ms`: the next one waits a full interval from now even if this one
/// woke late (a busy machine must not let two requests go out close together).
pub async fn departed(
    pool: &AnyPool,
    host: &str,
    now_ms: i64,
    interval_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE crawl_hosts SET tat_ms = CASE WHEN tat_ms > $2 + $3 THEN tat_ms ELSE $2 + $3 END \
         WHERE host = $1",
    )
    .bind(host)
    .bind(now_ms)
    .bind(interval_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// Which counter an outcome adds to, and whether it is a failure that backs the host off.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The counter's column (a fixed name from the caller, never user input).
    pub column: &'static str,
    /// snake_case name kept as the last outcome.
    pub name: &'static str,
    pub backs_off: bool,
    /// A normal answer: ends the back-off and the run of failures.
    pub clears: bool,
}

/// Count a request and what it came to; for a failure, also back the host off until
/// `now_ms + backoff_ms(failures in a row, this one included)` (a later back-off set by
/// another replica stands). Both in one transaction, so that no replica or admin ever sees
/// the failure counted but the host not yet left alone. Returns the failures in a row and
/// the back-off's length for a failure.
pub async fn record(
    pool: &AnyPool,
    host: &str,
    outcome: Outcome,
    now_ms: i64,
    backoff_ms: impl FnOnce(i64) -> i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let run = if outcome.backs_off {
        "failures_in_row = crawl_hosts.failures_in_row + 1"
    } else if outcome.clears {
        "failures_in_row = 0, backoff_until_ms = NULL"
    } else {
        "failures_in_row = crawl_hosts.failures_in_row"
    };
    let col = outcome.column;
    let mut tx = pool.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO crawl_hosts (host, tat_ms, requests, {col}, failures_in_row, last_outcome, updated_at_ms) \
         VALUES ($1, $3, 1, 1, $4, $2, $3) \
         ON CONFLICT (host) DO UPDATE SET requests = crawl_hosts.requests + 1, \
           {col} = crawl_hosts.{col} + 1, {run}, \
           last_outcome = $2, updated_at_ms = $3 \
         RETURNING failures_in_row"
    ))
    .bind(host)
    .bind(outcome.name)
    .bind(now_ms)
    .bind(i64::from(outcome.backs_off))
    .fetch_one(&mut *tx)
    .await?;
    let mut failed = None;
    if outcome.backs_off {
        let failures: i64 = row.try_get("failures_in_row")?;
        let delay = backoff_ms(failures);
        sqlx::query(
            "UPDATE crawl_hosts SET backoff_until_ms = $2 \
             WHERE host = $1 AND (backoff_until_ms IS NULL OR backoff_until_ms < $2)",
        )
        .bind(host)
        .bind(now_ms.saturating_add(delay))
        .execute(&mut *tx)
        .await?;
        failed = Some((failures, delay));
    }
    tx.commit().await?;
    Ok(failed)
}

/// Hosts backing off at `now_ms`, with when each back-off ends.
pub async fn backing_off(pool: &AnyPool, now_ms: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query("SELECT host, backoff_until_ms FROM crawl_hosts WHERE backoff_until_ms > $1")
        .bind(now_ms)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("host")?, r.try_get("backoff_until_ms")?)))
        .collect()
}

/// One host's row.
#[derive(Debug, Clone)]
pub struct HostRow {
    pub host: String,
    pub backoff_until_ms: Option<i64>,
    pub failures_in_row: i64,
    pub requests: i64,
    pub ok: i64,
    pub robot_checks: i64,
    pub unavailable: i64,
    pub unreachable: i64,
    pub page_errors: i64,
    pub last_outcome: Option<String>,
}

/// Every host, by name.
pub async fn all(pool: &AnyPool) -> Result<Vec<HostRow>, sqlx::Error> {
    sqlx::query(
        "SELECT host, backoff_until_ms, failures_in_row, requests, ok, robot_checks, \
         unavailable, unreachable, page_errors, last_outcome FROM crawl_hosts ORDER BY host",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(HostRow {
            host: r.try_get("host")?,
            backoff_until_ms: r.try_get("backoff_until_ms")?,
            failures_in_row: r.try_get("failures_in_row")?,
            requests: r.try_get("requests")?,
            ok: r.try_get("ok")?,
            robot_checks: r.try_get("robot_checks")?,
            unavailable: r.try_get("unavailable")?,
            unreachable: r.try_get("unreachable")?,
            page_errors: r.try_get("page_errors")?,
            last_outcome: r.try_get("last_outcome")?,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::slot_from;

    /// Replays GCRA the long way (old arrival time known) against the closed form.
    #[test]
    fn the_slot_follows_from_the_new_arrival_time_in_every_case() {
        let (i, tol) = (250, 500);
        for t in [-1_000, 0, 900, 1_000, 1_100, 5_000] {
            for b in [None, Some(0), Some(1_000), Some(1_200), Some(9_000)] {
                let now = 1_000;
                let expected = now.max(t - tol).max(b.unwrap_or(i64::MIN));
                let new_tat = t.max(now).max(b.unwrap_or(0)) + i;
                assert_eq!(
                    slot_from(new_tat, b, now, i, tol),
                    expected,
                    "t={t} b={b:?}"
                );
            }
        }
    }
}
