//! `pricewatch demo`: fill a database with a realistic demo catalogue, so that a newcomer sees
//! charts at once.
//!
//! A few hundred products over every marketplace, with titles by category, each marketplace's
//! currency and price level, and a year or more of plausible history: prices that mostly
//! stand still, regular prices that move every few months, short deals, the big sales events
//! (Spring deals, Prime Day, Prime Big Deal Days, Black Friday to Cyber Monday, Boxing Day),
//! out-of-stock stretches, and a few third-party-seller products whose price moves several
//! times a day.
//!
//! Everything comes from one seeded generator, so a seed always gives the same catalogue and
//! the same history (the dates follow the day it runs). The history is written through the
//! same store functions ingest uses, a few dozen products per transaction, so it takes
//! seconds. It is a backfill, not news: no outbox events are written, so no alert fires on
//! last year's prices.
//!
//! A crawler reporter is registered too, so reports posted later (by the crawler, or by a
//! script signing as it) are judged against this history. Its key derives from the demo seed
//! ([`crawler_seed`]), which anyone can compute: demo data is for trying PriceWatch, never for
//! a production database.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use pricewatch_core::history::PricePoint;
use pricewatch_core::report::ReporterKey;
use pricewatch_core::{
    Asin, Availability, Currency, Marketplace, Money, ProductKey, Span, Timestamp,
};
use sqlx::AnyConnection;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{redact, Db, DbError};
use crate::store::{points, products, reporters};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Products in the catalogue, spread over every marketplace.
    pub products: usize,
    /// Days of history before now.
    pub days: u32,
    /// The generator's seed: the same seed gives the same catalogue.
    pub seed: u64,
    /// Add the demo products even when the database already has products.
    pub force: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            products: 300,
            days: 400,
            seed: 42,
            force: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Products written with their history.
    pub products_added: usize,
    /// Demo products that were already there (with `--force`), left untouched.
    pub products_skipped: usize,
    /// Price points written.
    pub points_added: usize,
    /// The demo crawler's public key (hex).
    pub crawler_key: String,
    /// Products the database held before the run, when it refused to add to them.
    pub refused_existing: Option<i64>,
}

/// Why the demo could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("writing the demo data: {0}")]
    Sql(#[from] sqlx::Error),
}

/// Products per transaction: large enough that commits are rare, small enough that the
/// progress bar moves and a SQLite reader is never blocked for long.
const PRODUCTS_PER_TRANSACTION: usize = 25;

/// `pricewatch demo`.
pub fn run(settings: Settings, options: DemoOptions) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let url = settings.database_url.clone();
        let progress = ProgressBar::new(options.products as u64).with_style(
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} products ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        progress.set_message("demo");
        let result = async {
            let db = Db::connect(&url).await?;
            db.migrate(&url).await?;
            seed(&db, &options, SystemClock.now(), &progress).await
        }
        .await;
        progress.finish_and_clear();
        match result {
            Ok(summary) => {
                if let Some(n) = summary.refused_existing {
                    println!(
                        "{} already has {n} products: nothing added. Run `pricewatch demo --force` \
                         to add the demo products anyway.",
                        redact(&url)
                    );
                } else {
                    println!(
                        "added {} demo products with {} price points to {} ({} were already there)",
                        summary.products_added,
                        summary.points_added,
                        redact(&url),
                        summary.products_skipped
                    );
                    println!("demo crawler key: {}", summary.crawler_key);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Write the demo catalogue into `db` (already migrated), history ending at `now`.
#[tracing::instrument(skip(db, progress), fields(products = options.products, seed = options.seed))]
pub async fn seed(
    db: &Db,
    options: &DemoOptions,
    now: Timestamp,
    progress: &ProgressBar,
) -> Result<DemoSummary, DemoError> {
    let crawler = ReporterKey::from_seed(&crawler_seed(options.seed));
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(&db.read)
        .await?;
    let mut summary = DemoSummary {
        products_added: 0,
        products_skipped: 0,
        points_added: 0,
        crawler_key: crawler.to_string(),
        refused_existing: None,
    };
    if existing > 0 && !options.force {
        summary.refused_existing = Some(existing);
        return Ok(summary);
    }
    reporters::register(&db.write, &crawler, "crawler", now).await?;

    let catalogue = catalogue(options.seed, options.products);
    let start = now - Span::days(i64::from(options.days));
    for chunk in catalogue.chunks(PRODUCTS_PER_TRANSACTION) {
        let mut tx = db.write.begin().await?;
        for item in chunk {
            match write_product(&mut tx, db, item, start, now).await? {
                Some(points) => {
                    summary.products_added += 1;
                    summary.points_added += points;
                }
                None => summary.products_skipped += 1,
            }
        }
        tx.commit().await?;
        progress.inc(chunk.len() as u64);
    }
    tracing::info!(
        added = summary.products_added,
        points = summary.points_added,
        "demo data written"
    );
    Ok(summary)
}

/// Write one product and its history; `None` when it already exists (left as it is).
async fn write_product(
    conn: &mut AnyConnection,
    db: &Db,
    item: &DemoProduct,
    start: Timestamp,
    now: Timestamp,
) -> Result<Option<usize>, sqlx::Error> {
    if products::find(conn, &item.key).await?.is_some() {
        return Ok(None);
    }
    let product = products::get_or_create_locked(conn, db.backend, &item.key, now).await?;
    products::set_title(conn, product.id, &item.title, true).await?;
    let history = simulate(item, start, now);
    let mut last = None;
    for point in &history {
        last = Some((points::insert(conn, product.id, point, None).await?, point));
    }
    if let Some((id, point)) = last {
        products::set_current(conn, product.id, point.price, point.availability, id, now).await?;
    }
    Ok(Some(history.len()))
}

/// The demo crawler's secret seed: derived from the demo seed, so tests and scripts can sign
/// as it. Public knowledge; see the module documentation.
pub fn crawler_seed(seed: u64) -> [u8; 32] {
    let mut rng = Rng::new(seed ^ 0xC4A7_7E12_5EED_0001);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    out
}

/// SplitMix64: tiny, fast and the same on every platform and version, which a demo that
/// promises "the same seed gives the same data" needs more than statistical finesse.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How a product's price behaves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Sold by Amazon, rarely repriced; joins sales events.
    Stable,
    /// Frequent short deals besides the sales events.
    Deals,
    /// Gets cheaper in steps as newer models arrive (electronics).
    Declining,
    /// Third-party sellers repricing against each other: moves several times a day.
    Volatile,
}

/// One catalogue entry.
#[derive(Debug, Clone)]
struct DemoProduct {
    key: ProductKey,
    title: String,
    /// The regular price at the start of the history, in minor units.
    list_minor: i64,
    behaviour: Behaviour,
    /// Books are rarely discounted in events and never by much.
    book: bool,
    /// Per-product generator, so one product's history does not depend on the others'.
    seed: u64,
}

/// A category: concrete products with their US shelf price, and the variants (colours,
/// sizes) Amazon lists under their own ASINs.
struct Category {
    items: &'static [(&'static str, f64)],
    variants: &'static [&'static str],
    /// Books keep their price: they rarely join events and never by much.
    book: bool,
    /// Electronics get cheaper in steps as newer models arrive.
    declines: bool,
}

const CATEGORIES: &[Category] = &[
    Category {
        items: &[
            (
                "Sony WH-1000XM5 Wireless Noise Cancelling Headphones",
                399.99,
            ),
            ("Anker 735 USB-C Charger, 65W, 3 Ports", 59.99),
            ("Logitech MX Master 3S Wireless Performance Mouse", 99.99),
            ("JBL Flip 6 Portable Waterproof Bluetooth Speaker", 129.95),
            ("Samsung T7 Portable SSD 1TB, USB 3.2", 109.99),
            ("Fire TV Stick 4K with Alexa Voice Remote", 49.99),
            (
                "Apple AirPods Pro (2nd Generation) with MagSafe Case",
                249.00,
            ),
            ("Kindle Paperwhite, 16 GB, 7\" Display", 159.99),
            ("LG 27GP850-B 27\" UltraGear QHD Gaming Monitor", 449.99),
            ("SanDisk 256GB Extreme microSDXC Card", 27.99),
            ("Bose QuietComfort Ultra Earbuds", 299.00),
            ("Garmin Forerunner 265 GPS Running Smartwatch", 449.99),
        ],
        variants: &["Black", "White", "Silver", "Midnight Blue"],
        book: false,
        declines: true,
    },
    Category {
        items: &[
            ("Ninja AF101 Air Fryer, 4 Quart", 99.99),
            (
                "Instant Pot Duo 7-in-1 Electric Pressure Cooker, 6 Quart",
                89.99,
            ),
            (
                "De'Longhi Magnifica Evo Bean-to-Cup Espresso Machine",
                649.95,
            ),
            ("Tefal Ingenio Non-Stick Frying Pan, 28 cm", 39.99),
            ("KitchenAid Artisan Stand Mixer, 4.8 L", 449.99),
            ("OXO Good Grips 10-Piece Pop Container Set", 89.99),
            ("Zwilling Pro 7-Piece Knife Block Set", 329.95),
            ("Cosori Electric Gooseneck Kettle, 0.8 L", 69.99),
        ],
        variants: &["Black", "Stainless Steel", "Empire Red"],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            ("LEGO Technic Porsche 911 GT3 RS (42156)", 179.99),
            ("LEGO Star Wars Millennium Falcon (75375)", 84.99),
            ("Monopoly Classic Board Game", 19.99),
            ("Ravensburger 1000-Piece Puzzle, Alpine Lake", 21.99),
            ("UNO Card Game", 9.99),
            ("Catan Board Game, Base Game", 54.99),
            ("Playmobil City Action Fire Station (71193)", 89.99),
        ],
        variants: &[],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            ("DEWALT 20V MAX Cordless Drill Driver Kit", 159.00),
            ("Bosch GLM 50-27 C Laser Distance Measure", 149.00),
            ("Makita 18V LXT Random Orbit Sander (Tool Only)", 119.00),
            ("Stanley 110-Piece Mechanics Tool Set", 89.99),
            ("BLACK+DECKER 20V MAX Cordless Leaf Blower", 99.99),
        ],
        variants: &[],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            (
                "The Legend of Zelda: Tears of the Kingdom - Nintendo Switch",
                69.99,
            ),
            ("PlayStation DualSense Wireless Controller", 74.99),
            ("Mario Kart 8 Deluxe - Nintendo Switch", 59.99),
            ("Xbox Wireless Headset", 99.99),
            ("Razer BlackShark V2 X Gaming Headset", 59.99),
        ],
        variants: &["Midnight Black", "Cosmic Red", "Starlight Blue"],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            ("Hydro Flask Wide Mouth Insulated Bottle, 32 oz", 44.95),
            ("Osprey Talon 22 Hiking Backpack", 160.00),
            ("Coleman Sundome 4-Person Camping Tent", 99.99),
            ("Manduka PRO Yoga Mat, 6 mm", 129.00),
            ("Theragun Mini Handheld Massage Gun", 199.00),
        ],
        variants: &["Olive", "Pacific Blue", "Black"],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            ("Oral-B iO Series 5 Electric Toothbrush", 119.99),
            ("Philips Norelco Shaver 7200, Wet and Dry", 169.99),
            ("CeraVe Moisturizing Cream, 16 oz", 18.99),
            ("Dyson Supersonic Hair Dryer", 429.99),
            ("La Roche-Posay Anthelios Sunscreen SPF 50", 37.99),
        ],
        variants: &[],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            ("Lavazza Super Crema Whole Bean Coffee, 2.2 lb", 24.99),
            ("illy Classico Ground Coffee, 8.8 oz, Pack of 4", 39.96),
            ("Twinings English Breakfast Tea, 100 Bags", 9.99),
            ("Nespresso Vertuo Variety Pack, 30 Capsules", 41.00),
            ("Lindt EXCELLENCE 70% Dark Chocolate, 12 Bars", 31.99),
        ],
        variants: &[],
        book: false,
        declines: false,
    },
    Category {
        items: &[
            (
                "The Pragmatic Programmer, 20th Anniversary Edition (Hardcover)",
                49.99,
            ),
            ("Atomic Habits by James Clear (Hardcover)", 27.00),
            ("Project Hail Mary by Andy Weir (Paperback)", 18.00),
            (
                "The Rust Programming Language, 2nd Edition (Paperback)",
                39.99,
            ),
            ("Dune by Frank Herbert (Mass Market Paperback)", 10.99),
            ("Designing Data-Intensive Applications (Paperback)", 59.99),
            ("The Very Hungry Caterpillar (Board Book)", 10.99),
            ("Sapiens: A Brief History of Humankind (Paperback)", 22.99),
        ],
        variants: &[],
        book: true,
        declines: false,
    },
];

/// Share of the catalogue per marketplace (bigger stores get more products).
const MARKET_WEIGHTS: &[(Marketplace, u32)] = &[
    (Marketplace::Us, 20),
    (Marketplace::Uk, 9),
    (Marketplace::De, 9),
    (Marketplace::Jp, 7),
    (Marketplace::Fr, 6),
    (Marketplace::In, 6),
    (Marketplace::It, 5),
    (Marketplace::Es, 5),
    (Marketplace::Ca, 5),
    (Marketplace::Au, 3),
    (Marketplace::Mx, 3),
    (Marketplace::Br, 3),
    (Marketplace::Nl, 2),
    (Marketplace::Se, 2),
    (Marketplace::Pl, 2),
    (Marketplace::Tr, 2),
    (Marketplace::Ae, 2),
    (Marketplace::Sa, 2),
    (Marketplace::Sg, 2),
];

/// Local currency units per US dollar of shelf price: the exchange rate times the
/// marketplace's price level (VAT, import costs), roughly as of 2025.
fn local_per_usd(m: Marketplace) -> f64 {
    match m {
        Marketplace::Us => 1.0,
        Marketplace::Ca => 1.42,
        Marketplace::Mx => 19.5,
        Marketplace::Br => 6.9,
        Marketplace::Uk => 0.89,
        Marketplace::De | Marketplace::Fr | Marketplace::It | Marketplace::Es | Marketplace::Nl => {
            1.05
        }
        Marketplace::Se => 11.9,
        Marketplace::Pl => 4.5,
        Marketplace::Tr => 44.0,
        Marketplace::Ae => 3.9,
        Marketplace::Sa => 4.0,
        Marketplace::In => 82.0,
        Marketplace::Jp => 158.0,
        Marketplace::Au => 1.65,
        Marketplace::Sg => 1.45,
    }
}

/// A shelf price as shops write it: `49.99`, `1,299` yen, `2,499` rupees.
fn charm(minor: f64, currency: Currency) -> i64 {
    let per_major = currency.minor_per_major() as f64;
    let major = minor / per_major;
    let rounded_major = match currency {
        // Yen prices end in tens; rupee and lira prices in 9s of whole units.
        Currency::Jpy => ((major / 10.0).round() * 10.0).max(10.0),
        Currency::Inr | Currency::Try => ((major / 10.0).round() * 10.0 - 1.0).max(9.0),
        _ if major < 10.0 => (major * 2.0).round() / 2.0 - 0.01,
        _ => major.round() - 0.01,
    };
    ((rounded_major * per_major).round() as i64).max(1)
}

/// The catalogue for a seed: `n` products (at most every variant of every item on every
/// marketplace), at least one on every marketplace once `n` is large enough.
fn catalogue(seed: u64, n: usize) -> Vec<DemoProduct> {
    let mut rng = Rng::new(seed);
    let total: u32 = MARKET_WEIGHTS.iter().map(|(_, w)| w).sum();
    let capacity: usize = CATEGORIES
        .iter()
        .map(|c| c.items.len() * c.variants.len().max(1))
        .sum::<usize>()
        * MARKET_WEIGHTS.len();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n.min(capacity) {
        let i = out.len();
        let marketplace = if i < MARKET_WEIGHTS.len() {
            MARKET_WEIGHTS[i].0
        } else {
            let mut ticket = (rng.next_u64() % u64::from(total)) as u32;
            MARKET_WEIGHTS
                .iter()
                .find(|(_, w)| {
                    let hit = ticket < *w;
                    ticket = ticket.saturating_sub(*w);
                    hit
                })
                .map_or(Marketplace::Us, |(m, _)| *m)
        };
        let c = rng.below(CATEGORIES.len());
        let category = &CATEGORIES[c];
        let item = rng.below(category.items.len());
        let variant = rng.below(category.variants.len().max(1));
        let (name, usd) = category.items[item];
        let title = match category.variants.get(variant) {
            Some(v) => format!("{name}, {v}"),
            None => name.to_owned(),
        };
        // The same product has the same ASIN on every marketplace, as on Amazon; each variant
        // has its own.
        let asin = demo_asin(seed, c, item, variant, category.book);
        let key = ProductKey { marketplace, asin };
        if !seen.insert(key) {
            continue;
        }
        let currency = marketplace.currency();
        // Variants differ a little in price; each marketplace prices on its own.
        let local = usd * rng.range(0.95, 1.08) * local_per_usd(marketplace);
        let list_minor = charm(local * currency.minor_per_major() as f64, currency);
        let behaviour = match rng.unit() {
            x if x < 0.08 && !category.book => Behaviour::Volatile,
            x if x < 0.30 && category.declines => Behaviour::Declining,
            x if x < 0.50 => Behaviour::Deals,
            _ => Behaviour::Stable,
        };
        out.push(DemoProduct {
            key,
            title,
            list_minor,
            behaviour,
            book: category.book,
            seed: rng.next_u64(),
        });
    }
    out
}

/// A stable, realistic-looking ASIN for (category, item, variant): `B0` and eight letters or
/// digits, or an ISBN-10 for a book.
fn demo_asin(seed: u64, category: usize, item: usize, variant: usize, book: bool) -> Asin {
    let mut rng = Rng::new(
        seed.wrapping_mul(0x100_0000_01B3)
            ^ ((category as u64) << 40 | (item as u64) << 20 | variant as u64),
    );
    let text = if book {
        let digits: String = (0..9)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        format!("{digits}{}", rng.pick(&["0", "1", "5", "7", "X"]))
    } else {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        let tail: String = (0..7)
            .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
            .collect();
        // A digit in the tail keeps it an ASIN whatever the letters are.
        format!("B0{tail}{}", rng.below(10))
    };
    // Ten ASCII letters or digits with at least one digit always parse.
    Asin::parse(&text)
        .unwrap_or_else(|_| demo_asin(seed.wrapping_add(1), category, item, variant, book))
}

/// Civil date of a day number (days since 1970-01-01), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day number of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `n`-th (1-based) `weekday` (0 = Monday) of a month, as a day number.
fn nth_weekday(year: i64, month: u32, weekday: i64, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    // 1970-01-01 was a Thursday (weekday 3).
    let first_weekday = (first + 3).rem_euclid(7);
    first + (weekday - first_weekday).rem_euclid(7) + 7 * (n - 1)
}

/// A sales event: its first and last day (day numbers), and how deep it cuts.
#[derive(Debug, Clone, Copy)]
struct Event {
    from_day: i64,
    to_day: i64,
    depth: (f64, f64),
}

/// The sales events of a year on a marketplace.
fn events(year: i64, m: Marketplace) -> Vec<Event> {
    let prime_day = nth_weekday(year, 7, 1, 2);
    let big_deal_days = nth_weekday(year, 10, 1, 2);
    let black_friday = nth_weekday(year, 11, 3, 4) + 1;
    let mut out = vec![
        Event {
            from_day: days_from_civil(year, 3, 20),
            to_day: days_from_civil(year, 3, 25),
            depth: (0.08, 0.20),
        },
        Event {
            from_day: prime_day,
            to_day: prime_day + 1,
            depth: (0.15, 0.40),
        },
        Event {
            from_day: big_deal_days,
            to_day: big_deal_days + 1,
            depth: (0.12, 0.30),
        },
        Event {
            // Black Friday week through Cyber Monday ("White Friday" in the Gulf stores).
            from_day: black_friday - 7,
            to_day: black_friday + 3,
            depth: (0.15, 0.45),
        },
    ];
    if matches!(m, Marketplace::Uk | Marketplace::Ca | Marketplace::Au) {
        out.push(Event {
            from_day: days_from_civil(year, 12, 26),
            to_day: days_from_civil(year, 12, 28),
            depth: (0.10, 0.30),
        });
    }
    out
}

/// The product's history from `start` to `now`, change-only, as the store keeps it.
fn simulate(item: &DemoProduct, start: Timestamp, now: Timestamp) -> Vec<PricePoint> {
    let mut rng = Rng::new(item.seed);
    let currency = item.key.marketplace.currency();
    let day_ms = Span::days(1).as_millis();
    let (first_year, _, _) = civil_from_days(start.as_millis().div_euclid(day_ms));
    let (last_year, _, _) = civil_from_days(now.as_millis().div_euclid(day_ms));
    // Which events this product joins, and at what discount.
    let joined: Vec<(Event, f64)> = (first_year..=last_year)
        .flat_map(|y| events(y, item.key.marketplace))
        .filter_map(|e| {
            let p = if item.book { 0.15 } else { 0.65 };
            let depth = if item.book {
                rng.range(0.05, 0.12)
            } else {
                rng.range(e.depth.0, e.depth.1)
            };
            rng.chance(p).then_some((e, depth))
        })
        .collect();
    // Out-of-stock stretches: (first day, last day).
    let total_days = (now - start).as_millis() / day_ms;
    let mut stretches: Vec<(i64, i64)> = Vec::new();
    for _ in 0..rng.below(3) {
        if rng.chance(0.5) {
            let from = start.as_millis() / day_ms + rng.below(total_days.max(1) as usize) as i64;
            stretches.push((from, from + 2 + rng.below(18) as i64));
        }
    }

    let step = match item.behaviour {
        Behaviour::Volatile => Span::hours(4),
        _ => Span::days(1),
    };
    // Each product is looked at around its own hour of the day.
    let mut at = start + Span::minutes(rng.below(24 * 60) as i64);
    let mut regular = item.list_minor as f64;
    let mut next_reprice = at + Span::days(30 + rng.below(120) as i64);
    let mut deal_until = start;
    let mut deal_depth = 0.0;
    let mut wobble = 1.0_f64;
    let mut out: Vec<PricePoint> = Vec::new();
    while at <= now {
        let day = at.as_millis().div_euclid(day_ms);
        if at >= next_reprice {
            regular *= match item.behaviour {
                Behaviour::Declining => rng.range(0.86, 0.97),
                _ => rng.range(0.93, 1.09),
            };
            next_reprice = at + Span::days(45 + rng.below(120) as i64);
        }
        if item.behaviour == Behaviour::Deals && at >= deal_until && rng.chance(1.0 / 45.0) {
            deal_until = at + Span::days(1 + rng.below(5) as i64);
            deal_depth = rng.range(0.10, 0.30);
        }
        if item.behaviour == Behaviour::Volatile && rng.chance(0.35) {
            wobble = (wobble * rng.range(0.96, 1.04)).clamp(0.85, 1.15);
        }
        let event = joined
            .iter()
            .find(|(e, _)| (e.from_day..=e.to_day).contains(&day))
            .map_or(0.0, |(_, d)| *d);
        let deal = if at < deal_until { deal_depth } else { 0.0 };
        let out_of_stock = stretches.iter().any(|(a, b)| (*a..=*b).contains(&day));
        let (price, availability) = if out_of_stock {
            (None, Availability::OutOfStock)
        } else {
            let minor = regular * wobble * (1.0 - event.max(deal));
            (
                Some(Money::new(charm(minor, currency), currency)),
                Availability::InStock,
            )
        };
        match out.last_mut() {
            Some(last) if last.price == price && last.availability == availability => {
                last.last_seen_at = at;
            }
            _ => out.push(PricePoint {
                price,
                availability,
                first_seen_at: at,
                last_seen_at: at,
            }),
        }
        // A little jitter, never enough to reorder observations.
        at = at + step + Span::minutes(rng.below(60) as i64 - 30);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_735_689_600_000);

    #[test]
    fn civil_dates_round_trip_and_find_the_holidays() {
        for day in [-1, 0, 10_957, 19_723, 20_089] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
        // Black Friday 2024 was 29 November; the demo's Prime Day is the second Tuesday of July
        // (Amazon's own dates move between the second and third).
        assert_eq!(
            civil_from_days(nth_weekday(2024, 11, 3, 4) + 1),
            (2024, 11, 29)
        );
        assert_eq!(civil_from_days(nth_weekday(2024, 7, 1, 2)), (2024, 7, 9));
    }

    #[test]
    fn shelf_prices_look_like_shelf_prices() {
        assert_eq!(charm(4_987.0, Currency::Usd), 4_999);
        assert_eq!(charm(1_303.0, Currency::Jpy), 1_300);
        assert_eq!(charm(249_811.0, Currency::Inr), 249_900);
        assert_eq!(charm(730.0, Currency::Eur), 749);
    }

    #[test]
    fn the_same_seed_gives_the_same_catalogue_and_covers_every_marketplace() {
        let a = catalogue(7, 300);
        let b = catalogue(7, 300);
        assert_eq!(a.len(), 300);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.key, &x.title, x.list_minor),
                (y.key, &y.title, y.list_minor)
            );
        }
        for m in Marketplace::ALL {
            assert!(a.iter().any(|p| p.key.marketplace == m), "{m:?}");
        }
        assert_ne!(catalogue(8, 5)[0].key, a[0].key);
    }

    #[test]
    fn a_year_of_history_is_ordered_change_only_and_has_sales() {
        let start = NOW - Span::days(400);
        let mut discounted = 0;
        for item in catalogue(42, 120) {
            let history = simulate(&item, start, NOW);
            assert!(!history.is_empty(), "{}", item.title);
            for pair in history.windows(2) {
                assert!(pair[0].last_seen_at < pair[1].first_seen_at);
                assert!(
                    pair[0].price != pair[1].price || pair[0].availability != pair[1].availability
                );
            }
            let prices: Vec<i64> = history
                .iter()
                .filter_map(|p| p.price.map(|m| m.amount_minor))
                .collect();
            assert!(prices.iter().all(|p| *p > 0));
            if prices
                .iter()
                .any(|p| (*p as f64) < 0.85 * item.list_minor as f64)
            {
                discounted += 1;
            }
            if item.behaviour == Behaviour::Volatile {
                assert!(history.len() > 100, "{}: {}", item.title, history.len());
            }
        }
        assert!(
            discounted > 60,
            "most products join a sale: {discounted} of 120"
        );
    }
}
