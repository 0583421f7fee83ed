//! `price_days`: a product's published points packed per UTC day, the read side of history.
//!
//! Points of all products are written interleaved in time, so a product's year in
//! `price_points` is ~25,000 rows on as many pages, and every row costs the driver a few
//! microseconds on top. Packed, the same year is ~365 short rows read in one range scan
//! (clustered on SQLite), decoded here in well under a millisecond, and handed to core exactly
//! as `price_points` would give them: the chart and statistics rules stay core's.
//!
//! `price_points` stays the record. [`pack`] copies the published points of whole days that
//! can no longer change (every day before the day of the product's latest point: only the
//! latest point is ever extended, and new points only come after it) and moves
//! `products.packed_until` past them; reads take packed days before `packed_until` and rows
//! of `price_points` from it on, in one statement so they see one snapshot. A correction that
//! reverts a point calls [`unpack_from`] first, in its transaction, so the day goes back to
//! being read from `price_points`.

use pricewatch_core::history::PricePoint;
use pricewatch_core::{Availability, Currency, Money, Timestamp};
use sqlx::{AnyConnection, AnyPool, Row};

use super::points::StoredPoint;
use super::products::availability_from;
use crate::db::Backend;

const DAY_MS: i64 = 86_400_000;

/// The UTC day (its midnight, in ms) a time falls on: the packing unit.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY_MS) * DAY_MS
}

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

/// Why a packed day does not decode (a bug or a damaged row, never user input).
#[derive(Debug, thiserror::Error)]
#[error("packed day of product {product_id} at {day}: {what}")]
pub struct DecodeError {
    product_id: i64,
    day: i64,
    what: &'static str,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn signed(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

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

/// One day's points (oldest first) as bytes: per point a tag (availability, whether priced),
/// then id, first-seen and price as deltas from the point before, and the time it was seen
/// for. A point of a stable product takes 6–9 bytes against ~60 as a row.
pub fn encode(day: i64, points: &[StoredPoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * 9);
    let (mut id, mut first, mut price) = (0_i64, day, 0_i64);
    for p in points {
        let pt = &p.point;
        let mut tag = availability_code(pt.availability);
        if pt.price.is_some() {
            tag |= PRICED;
        }
        out.push(tag);
        put_signed(&mut out, p.id.wrapping_sub(id));
        put_signed(&mut out, pt.first_seen_at.as_millis().wrapping_sub(first));
        put_signed(
            &mut out,
            pt.last_seen_at
                .as_millis()
                .wrapping_sub(pt.first_seen_at.as_millis()),
        );
        if let Some(m) = pt.price {
            put_signed(&mut out, m.amount_minor.wrapping_sub(price));
            price = m.amount_minor;
        }
        id = p.id;
        first = pt.first_seen_at.as_millis();
    }
    out
}

/// The points of one packed day, appended to `out`; prices are in the product's `currency`.
pub fn decode(
    product_id: i64,
    day: i64,
    bytes: &[u8],
    currency: Currency,
    out: &mut Vec<StoredPoint>,
) -> Result<(), DecodeError> {
    let err = |what| DecodeError {
        product_id,
        day,
        what,
    };
    let mut r = Reader { bytes, at: 0 };
    let (mut id, mut first, mut price) = (0_i64, day, 0_i64);
    while r.at < bytes.len() {
        let tag = r.byte().ok_or_else(|| err("truncated tag"))?;
        let availability = availability_of(tag & 3).ok_or_else(|| err("bad availability"))?;
        id = id.wrapping_add(r.signed().ok_or_else(|| err("truncated id"))?);
        first = first.wrapping_add(r.signed().ok_or_else(|| err("truncated time"))?);
        let seen_for = r.signed().ok_or_else(|| err("truncated time"))?;
        let point_price = if tag & PRICED != 0 {
            price = price.wrapping_add(r.signed().ok_or_else(|| err("truncated price"))?);
            Some(Money::new(price, currency))
        } else {
            None
        };
        out.push(StoredPoint {
            id,
            point: PricePoint {
                price: point_price,
                availability,
                first_seen_at: Timestamp::from_millis(first),
                last_seen_at: Timestamp::from_millis(first.wrapping_add(seen_for)),
            },
        });
    }
    Ok(())
}

/// Each byte's value as a hex digit, 0x10 for a byte that is not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0x10_u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'A' as usize + i] = 10 + i as u8;
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// One `day,HEX` item of SQLite's joined packed days.
fn unhex_day(product_id: i64, item: &str) -> Result<(i64, Vec<u8>), DecodeError> {
    let err = |what| DecodeError {
        product_id,
        day: 0,
        what,
    };
    let (day, hex) = item
        .split_once(',')
        .ok_or_else(|| err("no day in joined days"))?;
    let day: i64 = day.parse().map_err(|_| err("bad day in joined days"))?;
    let hex = hex.as_bytes();
    if hex.len() % 2 != 0 {
        return Err(err("odd hex length"));
    }
    let mut bytes = Vec::with_capacity(hex.len() / 2);
    let mut bad = 0_u8;
    for pair in hex.chunks_exact(2) {
        let (hi, lo) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        // 0x10 marks a non-digit; checked once at the end rather than per byte.
        bad |= hi | lo;
        bytes.push(hi << 4 | (lo & 0x0f));
    }
    if bad & 0x10 != 0 {
        return Err(err("bad hex digit"));
    }
    Ok((day, bytes))
}

/// Published points that overlap `[since, ∞)`, oldest first: packed days before the
/// product's `packed_until`, rows of `price_points` from it on, in one statement (one round
/// trip, one snapshot). Exactly what `price_points` alone would answer.
pub async fn points_since(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    since: Timestamp,
) -> Result<Vec<StoredPoint>, sqlx::Error> {
    // sqlx's SQLite driver hands each row from its worker thread to the task on its own (a
    // wake-up, a copy of every value): for a year's ~365 day rows that was most of a cold
    // chart. On SQLite the packed days come back as one row, `day,hex;day,hex;...`; hex
    // because group_concat is a text function. PostgreSQL streams rows cheaply.
    let joined = conn.backend_name() == "SQLite";
    let packed_branch = if joined {
        "SELECT 0 AS src, 0 AS day, \
                (SELECT group_concat(d.day || ',' || hex(d.points), ';') FROM price_days d \
                 WHERE d.product_id = $1 AND d.last_seen_max >= $2 \
                   AND d.day < (SELECT packed_until FROM products WHERE id = $1)) AS packed, \
                NULL AS id, NULL AS price, NULL AS availability, NULL AS first_seen_at, \
                NULL AS last_seen_at"
    } else {
        // The packed branch comes first so that PostgreSQL types the NULL columns from the
        // other branch and the bytes column from this one.
        "SELECT 0 AS src, d.day AS day, d.points AS packed, NULL AS id, NULL AS price, \
                NULL AS availability, NULL AS first_seen_at, NULL AS last_seen_at \
         FROM price_days d \
         WHERE d.product_id = $1 AND d.last_seen_max >= $2 \
           AND d.day < (SELECT packed_until FROM products WHERE id = $1)"
    };
    let rows = sqlx::query(&format!(
        "{packed_branch} \
         UNION ALL \
         SELECT 1, 0, NULL, p.id, p.price, p.availability, p.first_seen_at, p.last_seen_at \
         FROM price_points p \
         WHERE p.product_id = $1 AND p.status = 'published' AND p.last_seen_at >= $2 \
           AND p.first_seen_at >= (SELECT packed_until FROM products WHERE id = $1)"
    ))
    .bind(product_id)
    .bind(since.as_millis())
    .fetch_all(conn)
    .await?;
    let mut days: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut tail: Vec<StoredPoint> = Vec::new();
    for row in &rows {
        let src: i64 = row.try_get("src")?;
        if src == 0 {
            if joined {
                // NULL when no day is packed (an aggregate over no row).
                let text: Option<String> = row.try_get("packed")?;
                for item in text.as_deref().unwrap_or("").split(';') {
                    if !item.is_empty() {
                        days.push(
                            unhex_day(product_id, item)
                                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                        );
                    }
                }
            } else {
                days.push((row.try_get("day")?, row.try_get("packed")?));
            }
        } else {
            let price: Option<i64> = row.try_get("price")?;
            let availability: String = row.try_get("availability")?;
            tail.push(StoredPoint {
                id: row.try_get("id")?,
                point: PricePoint {
                    price: price.map(|p| Money::new(p, currency)),
                    availability: availability_from(&availability),
                    first_seen_at: Timestamp::from_millis(row.try_get("first_seen_at")?),
                    last_seen_at: Timestamp::from_millis(row.try_get("last_seen_at")?),
                },
            });
        }
    }
    days.sort_unstable_by_key(|(day, _)| *day);
    let mut out =
        Vec::with_capacity(days.iter().map(|(_, b)| b.len() / 6).sum::<usize>() + tail.len());
    for (day, bytes) in &days {
        let from = out.len();
        decode(product_id, *day, bytes, currency, &mut out)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        // A day's first point may end before `since` while a later one of the day does not.
        let mut kept = from;
        for i in from..out.len() {
            if out[i].point.last_seen_at >= since {
                out.swap(kept, i);
                kept += 1;
            }
        }
        out.truncate(kept);
    }
    tail.sort_unstable_by_key(|p| (p.point.first_seen_at, p.id));
    out.extend(tail);
    Ok(out)
}

/// Pack the days of one product that can no longer change, in the caller's transaction.
/// Returns how many points were packed.
pub async fn pack(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
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
    let Some(latest) = latest else {
        return Ok(0);
    };
    // The latest point's day stays unpacked: that point is still being extended.
    let until = day_of(latest);
    if until <= packed_until {
        return Ok(0);
    }
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
    let mut points = Vec::with_capacity(rows.len());
    for row in &rows {
        let price: Option<i64> = row.try_get("price")?;
        let availability: String = row.try_get("availability")?;
        points.push(StoredPoint {
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
    let mut days: Vec<(i64, i64, Vec<u8>)> = Vec::new();
    for group in points.chunk_by(|a, b| {
        day_of(a.point.first_seen_at.as_millis()) == day_of(b.point.first_seen_at.as_millis())
    }) {
        let day = day_of(group[0].point.first_seen_at.as_millis());
        let last_seen_max = group
            .iter()
            .map(|p| p.point.last_seen_at.as_millis())
            .max()
            .unwrap_or(day);
        days.push((day, last_seen_max, encode(day, group)));
    }
    // 4 values a row; 200 rows stay far below both engines' parameter limits.
    for chunk in days.chunks(200) {
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
            "INSERT INTO price_days (product_id, day, last_seen_max, points) VALUES {} \
             ON CONFLICT (product_id, day) DO UPDATE SET last_seen_max = excluded.last_seen_max, \
             points = excluded.points",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (day, last_seen_max, bytes) in chunk {
            q = q
                .bind(product_id)
                .bind(*day)
                .bind(*last_seen_max)
                .bind(bytes.clone());
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE products SET packed_until = $1 WHERE id = $2")
        .bind(until)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(points.len())
}

/// Send the days from the one holding `first_seen_at` on back to `price_points`, in the
/// caller's transaction: a correction is about to change a point there (revert it, or extend
/// the point before it). Call it before touching the points: on PostgreSQL the product row
/// update here waits for a packer holding the row, so the packer's copy is gone afterwards.
pub async fn unpack_from(
    conn: &mut AnyConnection,
    product_id: i64,
    first_seen_at: Timestamp,
) -> Result<(), sqlx::Error> {
    let day = day_of(first_seen_at.as_millis());
    sqlx::query(
        "UPDATE products SET packed_until = CASE WHEN packed_until > $1 THEN $1 ELSE packed_until END \
         WHERE id = $2",
    )
    .bind(day)
    .bind(product_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM price_days WHERE product_id = $1 AND day >= $2")
        .bind(product_id)
        .bind(day)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Products that may have days to pack (their current point starts on a later day than
/// `packed_until`), after `after` in id order.
async fn candidates(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.id FROM products p JOIN price_points c ON c.id = p.current_point_id \
         WHERE p.id > $1 AND c.first_seen_at >= p.packed_until + 86400000 ORDER BY p.id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One pass of the packer over every product, one transaction per product so the writer is
/// never held long. Returns how many points were packed. Also the data migration: on an
/// upgraded database it packs all history that was there before `price_days`.
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

    /// A small xorshift generator: many varied days without a dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn random_day(rng: &mut Rng, day: i64) -> Vec<StoredPoint> {
        let n = rng.below(80);
        let (mut id, mut t) = (rng.below(1 << 40) as i64, day);
        (0..n)
            .map(|_| {
                id += 1 + rng.below(5_000) as i64;
                t += rng.below(3_600_000) as i64;
                // Negative prices and amounts past 2^32 too: the encoding must not care.
                let price = match rng.below(4) {
                    0 => None,
                    1 => Some(rng.below(1 << 40) as i64 - (1 << 39)),
                    _ => Some(1_000 + rng.below(500) as i64),
                };
                StoredPoint {
                    id,
                    point: PricePoint {
                        price: price.map(|p| Money::new(p, Currency::Eur)),
                        availability: availability_of(rng.below(3) as u8)
                            .unwrap_or(Availability::Unknown),
                        first_seen_at: Timestamp::from_millis(t),
                        last_seen_at: Timestamp::from_millis(t + rng.below(7_200_000) as i64),
                    },
                }
            })
            .collect()
    }

    #[test]
    fn a_packed_day_decodes_to_the_points_it_was_made_of() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let day = day_of(1_700_000_000_000);
            let points = random_day(&mut rng, day);
            let bytes = encode(day, &points);
            let mut back = Vec::new();
            decode(7, day, &bytes, Currency::Eur, &mut back).expect("decodes");
            assert_eq!(back.len(), points.len());
            for (a, b) in back.iter().zip(&points) {
                assert_eq!((a.id, a.point), (b.id, b.point));
            }
        }
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let mut rng = Rng(12345);
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..rng.below(64)).map(|_| rng.below(256) as u8).collect();
            let mut out = Vec::new();
            let _ = decode(1, 0, &bytes, Currency::Usd, &mut out);
        }
        // Ten continuation bytes overflow a varint: an error, not a wrapped value.
        let mut out = Vec::new();
        assert!(decode(
            1,
            0,
            &[4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Currency::Usd,
            &mut out
        )
        .is_err());
    }

    #[test]
    fn a_joined_day_reads_back_as_its_bytes_and_damage_is_an_error() {
        let bytes: Vec<u8> = (0..=255).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        let (day, back) = unhex_day(1, &format!("-86400000,{hex}")).expect("decodes");
        assert_eq!((day, back), (-86_400_000, bytes));
        assert_eq!(unhex_day(1, "0,").expect("empty day").1, Vec::<u8>::new());
        for bad in ["0,ABC", "0,AG", "x,00", "0011"] {
            assert!(unhex_day(1, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_are_utc_midnights_also_before_1970() {
        assert_eq!(day_of(86_400_000 + 5), 86_400_000);
        assert_eq!(day_of(86_400_000), 86_400_000);
        assert_eq!(day_of(-1), -86_400_000);
    }

    #[test]
    fn a_truncated_day_names_what_is_missing() {
        let p = StoredPoint {
            id: 3,
            point: PricePoint {
                price: Some(Money::new(1999, Currency::Usd)),
                availability: Availability::InStock,
                first_seen_at: Timestamp::from_millis(10),
                last_seen_at: Timestamp::from_millis(20),
            },
        };
        let bytes = encode(0, &[p]);
        let mut out = Vec::new();
        let err = decode(1, 0, &bytes[..bytes.len() - 1], Currency::Usd, &mut out)
            .expect_err("one byte short");
        assert!(err.to_string().contains("truncated price"), "{err}");
    }
}
