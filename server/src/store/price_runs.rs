//! `price_runs`: a product's published points packed into runs of up to 8 KB, the read side
//! of history (migration 0009).
//!
//! Points of all products are written interleaved in time, so a product's year in
//! `price_points` is ~25,000 rows on as many pages, and every row costs the driver a few
//! microseconds on top. Packed, the same year is a few dozen runs read in one range scan
//! (clustered on SQLite, one heap page each on PostgreSQL), decoded here in well under a
//! millisecond, and handed to core exactly as `price_points` would give them: the chart and
//! statistics rules stay core's.
//!
//! `price_points` stays the record. [`pack`] copies every published point before the
//! product's latest one (only the latest point is ever extended, and new points only come
//! after it), appending to the product's last run while it has room, and moves
//! `products.packed_until` to the latest point's start; reads take runs before `packed_until`
//! and rows of `price_points` from it on, in one statement so they see one snapshot. A
//! correction that reverts a point calls [`unpack_from`] first, in its transaction: the run
//! holding the point and every later one go back to being read from `price_points`.
//!
//! Run boundaries never fall between two points that start at the same time, so every point
//! of a run starts before the next run's `starts_at`: that is what lets [`unpack_from`] move
//! `packed_until` back to a run's start without leaving a point both packed and unpacked.

use pricewatch_core::history::PricePoint;
use pricewatch_core::{Availability, Currency, Money, Timestamp};
use sqlx::{AnyConnection, AnyPool, Row};

use super::points::StoredPoint;
use super::products::availability_from;
use crate::db::Backend;

/// Most bytes a run takes, its length prefix included. 8 KB amortizes a row's cost over ~1,000
/// points of a busy product while a run's row still fits one PostgreSQL page (8,160 bytes of
/// tuple, the three keys and headers included), which `STORAGE PLAIN` requires.
pub const RUN_BYTES: usize = 8_000;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Why packed bytes do not decode (a bug or a damaged row, never user input).
#[derive(Debug, thiserror::Error)]
#[error("packed run of product {product_id}: {what}")]
pub struct DecodeError {
    product_id: i64,
    what: &'static str,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    #[inline]
    fn varint(&mut self) -> Option<u64> {
        // Most fields of a regular history are one byte: no loop for them.
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        if b < 0x80 {
            return Some(u64::from(b));
        }
        let mut v = u64::from(b & 0x7f);
        for shift in (7..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    #[inline]
    fn signed(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }
}

const PRICED: u8 = 4;

fn availability_code(a: Availability) -> u8 {
    match a {
        Availability::InStock => 0,
        Availability::OutOfStock => 1,
        Availability::Unknown => 2,
    }
}

fn availability_of(code: u8) -> Option<Availability> {
    match code {
        0 => Some(Availability::InStock),
        1 => Some(Availability::OutOfStock),
        2 => Some(Availability::Unknown),
        _ => None,
    }
}

/// What each field of the next point is predicted from. Ids and start times are predicted
/// to keep the previous step (delta of delta), how long a point was seen for to equal the
/// previous one's, the price to stay: a regular history then takes one byte per field.
#[derive(Debug, Clone, Copy, Default)]
struct Prediction {
    id: i64,
    id_step: i64,
    first: i64,
    first_step: i64,
    seen_for: i64,
    price: i64,
}

fn encode_point(out: &mut Vec<u8>, s: &mut Prediction, p: &StoredPoint) {
    let pt = &p.point;
    let mut tag = availability_code(pt.availability);
    if pt.price.is_some() {
        tag |= PRICED;
    }
    out.push(tag);
    let id_step = p.id.wrapping_sub(s.id);
    put_signed(out, id_step.wrapping_sub(s.id_step));
    let first = pt.first_seen_at.as_millis();
    let first_step = first.wrapping_sub(s.first);
    put_signed(out, first_step.wrapping_sub(s.first_step));
    let seen_for = pt.last_seen_at.as_millis().wrapping_sub(first);
    put_signed(out, seen_for.wrapping_sub(s.seen_for));
    if let Some(m) = pt.price {
        put_signed(out, m.amount_minor.wrapping_sub(s.price));
        s.price = m.amount_minor;
    }
    *s = Prediction {
        id: p.id,
        id_step,
        first,
        first_step,
        seen_for,
        price: s.price,
    };
}

/// One run as stored: where it starts, the latest time any of its points was seen, and its
/// bytes (payload length as a varint, then the points).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub starts_at: i64,
    pub last_seen_max: i64,
    pub bytes: Vec<u8>,
}

fn finish_run(first: &StoredPoint, last_seen_max: i64, payload: &[u8]) -> Run {
    let mut bytes = Vec::with_capacity(payload.len() + 3);
    put_varint(&mut bytes, payload.len() as u64);
    bytes.extend_from_slice(payload);
    Run {
        starts_at: first.point.first_seen_at.as_millis(),
        last_seen_max,
        bytes,
    }
}

/// `points` (oldest first, ordered by start) as runs of at most `run_bytes` bytes each, a
/// run never split between two points that start at the same time (nor ever empty: one
/// point longer than `run_bytes` is a run of its own).
pub fn split_runs(points: &[StoredPoint], run_bytes: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut payload: Vec<u8> = Vec::with_capacity(run_bytes);
    let mut s = Prediction::default();
    let mut first = 0;
    let mut last_seen_max = i64::MIN;
    for (i, p) in points.iter().enumerate() {
        let before = payload.len();
        encode_point(&mut payload, &mut s, p);
        let full = varint_len(payload.len() as u64) + payload.len() > run_bytes;
        let may_split = i > first && points[i - 1].point.first_seen_at < p.point.first_seen_at;
        if full && may_split {
            payload.truncate(before);
            runs.push(finish_run(&points[first], last_seen_max, &payload));
            payload.clear();
            // A run decodes on its own: the predictions start over.
            s = Prediction::default();
            first = i;
            last_seen_max = i64::MIN;
            encode_point(&mut payload, &mut s, p);
        }
        last_seen_max = last_seen_max.max(p.point.last_seen_at.as_millis());
    }
    if first < points.len() {
        runs.push(finish_run(&points[first], last_seen_max, &payload));
    }
    runs
}

/// Decode `bytes`, one run or several runs back to back (each carries its length), appending
/// to `out` the points last seen at or after `since`; prices are in the product's `currency`.
pub fn decode_runs(
    product_id: i64,
    bytes: &[u8],
    since: i64,
    currency: Currency,
    out: &mut Vec<StoredPoint>,
) -> Result<(), DecodeError> {
    let err = |what| DecodeError { product_id, what };
    let mut r = Reader { bytes, at: 0 };
    while r.at < bytes.len() {
        let len = r.varint().ok_or_else(|| err("truncated run length"))?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| r.at.checked_add(l))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| err("run longer than its bytes"))?;
        let mut run = Reader {
            bytes: &bytes[..end],
            at: r.at,
        };
        let mut s = Prediction::default();
        while run.at < end {
            let tag = run.byte().ok_or_else(|| err("truncated tag"))?;
            let availability = availability_of(tag & 3).ok_or_else(|| err("bad availability"))?;
            let id_step = s
                .id_step
                .wrapping_add(run.signed().ok_or_else(|| err("truncated id"))?);
            let first_step = s
                .first_step
                .wrapping_add(run.signed().ok_or_else(|| err("truncated time"))?);
            let seen_for = s
                .seen_for
                .wrapping_add(run.signed().ok_or_else(|| err("truncated time"))?);
            if tag & PRICED != 0 {
                s.price = s
                    .price
                    .wrapping_add(run.signed().ok_or_else(|| err("truncated price"))?);
            }
            s.id = s.id.wrapping_add(id_step);
            s.first = s.first.wrapping_add(first_step);
            s.id_step = id_step;
            s.first_step = first_step;
            s.seen_for = seen_for;
            let last = s.first.wrapping_add(seen_for);
            if last >= since {
                out.push(StoredPoint {
                    id: s.id,
                    point: PricePoint {
                        price: (tag & PRICED != 0).then(|| Money::new(s.price, currency)),
                        availability,
                        first_seen_at: Timestamp::from_millis(s.first),
                        last_seen_at: Timestamp::from_millis(last),
                    },
                });
            }
        }
        r.at = end;
    }
    Ok(())
}

fn decode_error(e: DecodeError) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// Published points that overlap `[since, ∞)`, oldest first: runs before the product's
/// `packed_until`, rows of `price_points` from it on, in one statement (one round trip, one
/// snapshot). Exactly what `price_points` alone would answer.
pub async fn points_since(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    since: Timestamp,
) -> Result<Vec<StoredPoint>, sqlx::Error> {
    // sqlx's SQLite driver hands each row from its worker thread to the task on its own (a
    // wake-up, a copy of every value), so on SQLite the runs come back as one value: their
    // bytes back to back (each run carries its length; group_concat copies blobs byte for
    // byte, and the cast keeps the result a blob). PostgreSQL streams rows cheaply.
    let joined = conn.backend_name() == "SQLite";
    let packed_branch = if joined {
        "SELECT 0 AS src, \
                (SELECT CAST(group_concat(points, '') AS BLOB) FROM \
                   (SELECT r.points FROM price_runs r \
                    WHERE r.product_id = $1 AND r.last_seen_max >= $2 \
                      AND r.starts_at < (SELECT packed_until FROM products WHERE id = $1) \
                    ORDER BY r.starts_at)) AS packed, \
                NULL AS id, NULL AS price, NULL AS availability, NULL AS first_seen_at, \
                NULL AS last_seen_at"
    } else {
        // The packed branch comes first so that PostgreSQL types the NULL columns from the
        // other branch and the bytes column from this one.
        "SELECT 0 AS src, r.points AS packed, NULL AS id, NULL AS price, \
                NULL AS availability, NULL AS first_seen_at, NULL AS last_seen_at \
         FROM price_runs r \
         WHERE r.product_id = $1 AND r.last_seen_max >= $2 \
           AND r.starts_at < (SELECT packed_until FROM products WHERE id = $1)"
    };
    let rows = sqlx::query(&format!(
        "{packed_branch} \
         UNION ALL \
         SELECT 1, NULL, p.id, p.price, p.availability, p.first_seen_at, p.last_seen_at \
         FROM price_points p \
         WHERE p.product_id = $1 AND p.status = 'published' AND p.last_seen_at >= $2 \
           AND p.first_seen_at >= (SELECT packed_until FROM products WHERE id = $1)"
    ))
    .bind(product_id)
    .bind(since.as_millis())
    .fetch_all(conn)
    .await?;
    let mut packed: Vec<&[u8]> = Vec::new();
    let mut tail: Vec<StoredPoint> = Vec::new();
    for row in &rows {
        let src: i64 = row.try_get("src")?;
        if src == 0 {
            // NULL on SQLite when no run is packed (an aggregate over no row).
            if let Some(bytes) = row.try_get::<Option<&[u8]>, _>("packed")? {
                packed.push(bytes);
            }
        } else {
            tail.push(super::points::from_row(row, currency)?);
        }
    }
    // One allocation for all the points (a regular history takes ~6 bytes a point): grown
    // run by run instead, the vector was copied again at every doubling: 7% of the server's
    // CPU samples on cold charts (`perf`, history benchmark).
    let mut out: Vec<StoredPoint> =
        Vec::with_capacity(packed.iter().map(|b| b.len()).sum::<usize>() / 6 + tail.len());
    for bytes in packed {
        decode_runs(product_id, bytes, since.as_millis(), currency, &mut out)
            .map_err(decode_error)?;
    }
    // PostgreSQL returns the runs in no promised order; runs never overlap, so one check
    // usually finds them in order and the sort is skipped.
    let key = |p: &StoredPoint| (p.point.first_seen_at, p.id);
    if out.windows(2).any(|w| key(&w[0]) > key(&w[1])) {
        out.sort_unstable_by_key(key);
    }
    tail.sort_unstable_by_key(key);
    out.extend(tail);
    Ok(out)
}

/// Pack every published point of one product before its latest into runs, in the caller's
/// transaction. Returns how many points were packed.
pub async fn pack(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
) -> Result<usize, sqlx::Error> {
    pack_with(conn, backend, product_id, RUN_BYTES).await
}

/// [`pack`] with runs of at most `run_bytes`: tests use tiny runs to cross many boundaries.
pub async fn pack_with(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
    run_bytes: usize,
) -> Result<usize, sqlx::Error> {
    // Taking the product row first serializes this with ingest and corrections of the same
    // product on PostgreSQL (both update the row); SQLite has one writer anyway.
    let packed_until: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT packed_until FROM products WHERE id = $1{}",
        super::for_update(backend)
    ))
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(packed_until) = packed_until else {
        return Ok(0);
    };
    let latest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(first_seen_at) FROM price_points WHERE product_id = $1 AND status = 'published'",
    )
    .bind(product_id)
    .fetch_one(&mut *conn)
    .await?;
    // The latest point stays unpacked: it is still being extended.
    let Some(until) = latest.filter(|&l| l > packed_until) else {
        return Ok(0);
    };
    let rows = sqlx::query(
        "SELECT id, price, availability, first_seen_at, last_seen_at FROM price_points \
         WHERE product_id = $1 AND status = 'published' AND first_seen_at >= $2 \
           AND first_seen_at < $3 ORDER BY first_seen_at, id",
    )
    .bind(product_id)
    .bind(packed_until)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    let mut fresh = Vec::with_capacity(rows.len());
    for row in &rows {
        let price: Option<i64> = row.try_get("price")?;
        let availability: String = row.try_get("availability")?;
        fresh.push(StoredPoint {
            id: row.try_get("id")?,
            point: PricePoint {
                // The currency is not stored per point and not encoded: any will do here.
                price: price.map(|p| Money::new(p, Currency::Usd)),
                availability: availability_from(&availability),
                first_seen_at: Timestamp::from_millis(row.try_get("first_seen_at")?),
                last_seen_at: Timestamp::from_millis(row.try_get("last_seen_at")?),
            },
        });
    }
    if !fresh.is_empty() {
        // Append to the product's last run while it has room: a product that changes once in
        // a while would otherwise leave a run of one point per packer pass.
        let last = sqlx::query(
            "SELECT starts_at, points FROM price_runs WHERE product_id = $1 \
             ORDER BY starts_at DESC LIMIT 1",
        )
        .bind(product_id)
        .fetch_optional(&mut *conn)
        .await?;
        let mut points = Vec::new();
        if let Some(last) = last {
            let bytes: Vec<u8> = last.try_get("points")?;
            if bytes.len() < run_bytes {
                let starts_at: i64 = last.try_get("starts_at")?;
                decode_runs(product_id, &bytes, i64::MIN, Currency::Usd, &mut points)
                    .map_err(decode_error)?;
                sqlx::query("DELETE FROM price_runs WHERE product_id = $1 AND starts_at = $2")
                    .bind(product_id)
                    .bind(starts_at)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        points.extend_from_slice(&fresh);
        insert_runs(conn, product_id, &split_runs(&points, run_bytes)).await?;
    }
    sqlx::query("UPDATE products SET packed_until = $1 WHERE id = $2")
        .bind(until)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(fresh.len())
}

async fn insert_runs(
    conn: &mut AnyConnection,
    product_id: i64,
    runs: &[Run],
) -> Result<(), sqlx::Error> {
    // 4 values a row; 200 rows stay far below both engines' parameter limits.
    for chunk in runs.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO price_runs (product_id, starts_at, last_seen_max, points) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for run in chunk {
            q = q
                .bind(product_id)
                .bind(run.starts_at)
                .bind(run.last_seen_max)
                .bind(run.bytes.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Send the run holding the point that starts at `first_seen_at`, and every later run, back
/// to `price_points`, in the caller's transaction: a correction is about to change a point
/// there (revert it, or extend the point before it). Call it before touching the points.
pub async fn unpack_from(
    conn: &mut AnyConnection,
    product_id: i64,
    first_seen_at: Timestamp,
) -> Result<(), sqlx::Error> {
    // The product row first: on PostgreSQL this waits for a packer holding it, so the
    // packer's runs are committed (and found below) or not begun.
    let lock = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let packed_until: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT packed_until FROM products WHERE id = $1{lock}"
    ))
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    let at = first_seen_at.as_millis();
    match packed_until {
        Some(until) if at < until => {}
        // Not packed (or no such product): nothing to send back.
        _ => return Ok(()),
    }
    let run_start: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(starts_at) FROM price_runs WHERE product_id = $1 AND starts_at <= $2",
    )
    .bind(product_id)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    // Runs split only between points that start at different times, so every point of an
    // earlier run starts before `from`: from there on, price_points holds them all.
    let from = run_start.unwrap_or(at);
    sqlx::query("DELETE FROM price_runs WHERE product_id = $1 AND starts_at >= $2")
        .bind(product_id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE products SET packed_until = $1 WHERE id = $2")
        .bind(from)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Products that may have points to pack (their current point starts after `packed_until`),
/// after `after` in id order.
async fn candidates(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.id FROM products p JOIN price_points c ON c.id = p.current_point_id \
         WHERE p.id > $1 AND c.first_seen_at > p.packed_until ORDER BY p.id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One pass of the packer over every product, one transaction per product so the writer is
/// never held long. Returns how many points were packed. Also the data migration: on an
/// upgraded database it packs all history that was there before `price_runs`.
pub async fn pack_pass(write: &AnyPool, backend: Backend) -> Result<usize, sqlx::Error> {
    let mut after = 0;
    let mut packed = 0;
    loop {
        let ids = candidates(write, after, 500).await?;
        let Some(&last) = ids.last() else {
            return Ok(packed);
        };
        for id in ids {
            let mut tx = write.begin().await?;
            packed += pack(&mut tx, backend, id).await?;
            tx.commit().await?;
        }
        after = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small xorshift generator: many varied histories without a dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Points ordered by (start, id), some starting at the same time, with ids, times and
    /// prices anywhere in i64 (negative, past 2^32, near the ends): the encoding must not care.
    fn random_points(rng: &mut Rng) -> Vec<StoredPoint> {
        let n = rng.below(300);
        let wild = rng.below(4) == 0;
        let (mut id, mut t) = if wild {
            (rng.below(u64::MAX) as i64, rng.below(u64::MAX) as i64 / 2)
        } else {
            (rng.below(1 << 40) as i64, 1_700_000_000_000)
        };
        (0..n)
            .map(|_| {
                id = id.wrapping_add(1 + rng.below(5_000) as i64);
                // One in eight starts with the point before.
                if rng.below(8) != 0 {
                    t = t.saturating_add(1 + rng.below(3_600_000) as i64);
                }
                let price = match rng.below(5) {
                    0 => None,
                    1 => Some(rng.below(u64::MAX) as i64),
                    _ => Some(1_000 + rng.below(500) as i64),
                };
                let seen_for = if wild {
                    rng.below(1 << 62) as i64
                } else {
                    rng.below(7_200_000) as i64
                };
                StoredPoint {
                    id,
                    point: PricePoint {
                        price: price.map(|p| Money::new(p, Currency::Eur)),
                        availability: availability_of(rng.below(3) as u8)
                            .unwrap_or(Availability::Unknown),
                        first_seen_at: Timestamp::from_millis(t),
                        last_seen_at: Timestamp::from_millis(t.wrapping_add(seen_for)),
                    },
                }
            })
            .collect()
    }

    fn same(a: &[StoredPoint], b: &[StoredPoint]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.id == y.id && x.point == y.point)
    }

    #[test]
    fn runs_of_any_size_decode_back_to_the_points_they_were_made_of() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2_000 {
            let points = random_points(&mut rng);
            // Tiny runs (every point a run of its own, or a few) as well as the real size.
            let run_bytes = match rng.below(3) {
                0 => rng.below(40) as usize,
                1 => 40 + rng.below(400) as usize,
                _ => RUN_BYTES,
            };
            let runs = split_runs(&points, run_bytes);
            // Each run on its own (PostgreSQL's rows) and all back to back (SQLite's value).
            let mut each = Vec::new();
            let mut joined = Vec::new();
            for run in &runs {
                let mut one = Vec::new();
                decode_runs(7, &run.bytes, i64::MIN, Currency::Eur, &mut one).expect("decodes");
                assert!(!one.is_empty(), "no run is empty");
                assert_eq!(run.starts_at, one[0].point.first_seen_at.as_millis());
                let max = one.iter().map(|p| p.point.last_seen_at.as_millis()).max();
                assert_eq!(Some(run.last_seen_max), max);
                // Over size only when one point is more than a run, or when the point that
                // filled it starts with the one before (a run never splits between them).
                let n = one.len();
                assert!(
                    run.bytes.len() <= run_bytes
                        || n == 1
                        || one[n - 1].point.first_seen_at == one[n - 2].point.first_seen_at,
                    "{} > {run_bytes}",
                    run.bytes.len()
                );
                // Every point of an earlier run starts before this run.
                assert!(each
                    .iter()
                    .all(|p: &StoredPoint| p.point.first_seen_at.as_millis() < run.starts_at));
                each.extend(one);
                joined.extend_from_slice(&run.bytes);
            }
            assert!(same(&each, &points), "run by run, {run_bytes} bytes");
            let mut back = Vec::new();
            decode_runs(7, &joined, i64::MIN, Currency::Eur, &mut back).expect("decodes");
            assert!(same(&back, &points), "back to back, {run_bytes} bytes");
        }
    }

    #[test]
    fn decoding_keeps_only_points_seen_at_or_after_since() {
        let mut rng = Rng(99);
        for _ in 0..200 {
            let points = random_points(&mut rng);
            let Some(mid) = points.get(points.len() / 2) else {
                continue;
            };
            let since = mid.point.first_seen_at.as_millis();
            let runs = split_runs(&points, 100);
            let mut back = Vec::new();
            for run in &runs {
                decode_runs(1, &run.bytes, since, Currency::Eur, &mut back).unwrap();
            }
            let expected: Vec<StoredPoint> = points
                .iter()
                .copied()
                .filter(|p| p.point.last_seen_at.as_millis() >= since)
                .collect();
            assert!(same(&back, &expected));
        }
    }

    #[test]
    fn a_regular_history_takes_about_six_bytes_a_point() {
        let points: Vec<StoredPoint> = (0..5_000)
            .map(|i| StoredPoint {
                id: 1_000 + 200 * i,
                point: PricePoint {
                    price: Some(Money::new(5_000 + (i * 7_919) % 3_000, Currency::Usd)),
                    availability: Availability::InStock,
                    first_seen_at: Timestamp::from_millis(1_700_000_000_000 + i * 1_261_440),
                    last_seen_at: Timestamp::from_millis(
                        1_700_000_000_000 + i * 1_261_440 + 1_201_440,
                    ),
                },
            })
            .collect();
        let bytes: usize = split_runs(&points, RUN_BYTES)
            .iter()
            .map(|r| r.bytes.len())
            .sum();
        // Tag, id, start, seen-for: a byte each; the price change two; run headers a little.
        assert!(bytes * 10 <= 61 * points.len(), "{bytes} bytes");
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let mut rng = Rng(12345);
        for _ in 0..5_000 {
            let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.below(256) as u8).collect();
            let mut out = Vec::new();
            let _ = decode_runs(1, &bytes, i64::MIN, Currency::Usd, &mut out);
        }
        // Ten continuation bytes overflow a varint: an error, not a wrapped value.
        let mut out = Vec::new();
        assert!(decode_runs(
            1,
            &[11, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            i64::MIN,
            Currency::Usd,
            &mut out
        )
        .is_err());
        // A length past the end.
        assert!(decode_runs(1, &[9, 4, 0, 0, 0], i64::MIN, Currency::Usd, &mut out).is_err());
    }

    #[test]
    fn a_truncated_run_names_what_is_missing() {
        let p = StoredPoint {
            id: 3,
            point: PricePoint {
                price: Some(Money::new(1999, Currency::Usd)),
                availability: Availability::InStock,
                first_seen_at: Timestamp::from_millis(10),
                last_seen_at: Timestamp::from_millis(20),
            },
        };
        let run = &split_runs(&[p], RUN_BYTES)[0];
        // Shorten the payload by one byte and fix the length prefix to match.
        let mut bytes = run.bytes.clone();
        bytes.pop();
        bytes[0] -= 1;
        let mut out = Vec::new();
        let err =
            decode_runs(1, &bytes, i64::MIN, Currency::Usd, &mut out).expect_err("one byte short");
        assert!(err.to_string().contains("truncated price"), "{err}");
    }
}
