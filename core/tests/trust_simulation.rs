//! A month of reports against the trust rules: 1,000 honest reporters and 50 malicious ones
//! who coordinate fake drops, over 1,000 products whose prices really move (and really drop).
//!
//! Deterministic: one seeded splitmix64 drives everything. A verification crawl is modelled
//! as an oracle that reveals the truth at the report's `observed_at` after a delay; its
//! outcome confirms or refutes the reporter, reverts a published fake, and publishes a held
//! truth. Run with `-- --nocapture` to see the table.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use pricewatch_core::judge::{
    judge, AcceptedPoint, ConsensusOutcome, Decision, HeldReport, JudgeConfig, ProductState,
};
use pricewatch_core::report::{Nonce, PriceReport, ReporterKey};
use pricewatch_core::reputation::Reputation;
use pricewatch_core::{Asin, Availability, Currency, Marketplace, Money, Span, Timestamp};

/// A month in which a few early campaigns still have enough unburned keys to meet K, so the
/// consensus path is exercised and not only the rejections.
const SEED: u64 = 1;
const PRODUCTS: usize = 1_000;
const HONEST: usize = 1_000;
const MALICIOUS: usize = 50;
const DAYS: i64 = 30;
/// Product pages an honest reporter reads per day.
const VISITS_PER_DAY: u64 = 4;
/// One campaign of fake drops every this many hours.
const CAMPAIGN_EVERY_HOURS: i64 = 8;
/// Share of honest reports that misread the price (a used offer, a coupon price).
const MISREAD_PER_MILLE: u64 = 1;
const START: Timestamp = Timestamp::from_millis(1_735_689_600_000);

/// The oracle crawl's delays: verification jobs are high priority, routine checks are not.
const VERIFY_AFTER: Span = Span::minutes(30);
const HOLD_VERIFY_AFTER: Span = Span::minutes(60);
const ROUTINE_CHECK_AFTER: Span = Span::hours(12);

/// splitmix64: tiny, fast, and good enough to make a month of synthetic traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One piece of a product's true price path.
#[derive(Clone, Copy)]
struct Truth {
    from: Timestamp,
    price: Option<i64>,
    availability: Availability,
}

/// A genuine drop in a product's true price.
struct GenuineDrop {
    product: usize,
    start: Timestamp,
    end: Timestamp,
    price: i64,
    first_report: Option<(Timestamp, bool)>,
    published_at: Option<Timestamp>,
}

struct Product {
    asin: Asin,
    subscribers: u32,
    truth: Vec<Truth>,
    history: Vec<AcceptedPoint>,
    held: Vec<(HeldReport, usize)>,
}

impl Product {
    fn truth_at(&self, at: Timestamp) -> Truth {
        let i = self.truth.partition_point(|t| t.from <= at);
        self.truth[i.saturating_sub(1)]
    }

    fn publish(&mut self, price: Option<i64>, availability: Availability, at: Timestamp) {
        self.history.push(AcceptedPoint {
            price: price.map(usd),
            availability,
            at,
        });
        if self.history.len() > 12 {
            self.history.remove(0);
        }
    }

    fn published_price(&self) -> Option<i64> {
        self.history
            .last()
            .and_then(|p| p.price)
            .map(|m| m.amount_minor)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Honest,
    Misread,
    Fake { campaign: usize },
}

struct Report {
    at: Timestamp,
    reporter: usize,
    product: usize,
    price: Option<i64>,
    availability: Availability,
    source: Source,
}

struct Campaign {
    product: usize,
    group: u32,
    /// Members whose reports still counted (not rejected, score high enough to vote).
    eligible: u32,
    required: u32,
    published: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// A verification crawl for a report that was published and must be checked.
    Verify { report: usize },
    /// A verification crawl for a held report.
    VerifyHeld { report: usize },
    /// The routine crawl that checks an accepted report, for reputation only.
    Routine { report: usize },
}

#[derive(Default)]
struct Tally {
    judged: u32,
    decisions: [u32; 4],
    misreads: u32,
    misreads_published: u32,
    misreads_reverted: u32,
    fake_reports: u32,
    fake_reports_rejected: u32,
    consensus_confirmations: u32,
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::Usd)
}

fn agrees(claim: Option<i64>, truth: Option<i64>) -> bool {
    match (claim, truth) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() * 100 <= b,
        _ => false,
    }
}

fn make_products(rng: &mut Rng, drops: &mut Vec<GenuineDrop>) -> Vec<Product> {
    let end = START + Span::days(DAYS);
    (0..PRODUCTS)
        .map(|i| {
            let asin = Asin::parse(&format!("B0SIM{i:05}")).unwrap_or_else(|e| panic!("{e}"));
            let subscribers = (rng.between(0.0, 5_001_f64.ln()).exp() - 1.0) as u32;
            let mut price = rng.between(5_f64.ln(), 2_000_f64.ln()).exp().round() as i64 * 100 - 1;
            let mut truth = vec![Truth {
                from: START - Span::days(10),
                price: Some(price),
                availability: Availability::InStock,
            }];
            let mut at = START;
            while at < end {
                let hour = Span::hours(1);
                if rng.chance(0.3 / 24.0) {
                    let factor = 1.0 + rng.between(-0.08, 0.08);
                    price = ((price as f64 * factor) as i64).max(100);
                    truth.push(Truth {
                        from: at,
                        price: Some(price),
                        availability: Availability::InStock,
                    });
                } else if rng.chance(0.8 / (24.0 * DAYS as f64)) {
                    let low = ((price as f64) * (1.0 - rng.between(0.10, 0.60))) as i64;
                    let until = at + Span::hours(6 + rng.below(66) as i64);
                    truth.push(Truth {
                        from: at,
                        price: Some(low),
                        availability: Availability::InStock,
                    });
                    truth.push(Truth {
                        from: until,
                        price: Some(price),
                        availability: Availability::InStock,
                    });
                    drops.push(GenuineDrop {
                        product: i,
                        start: at,
                        end: until,
                        price: low,
                        first_report: None,
                        published_at: None,
                    });
                    at = until;
                    continue;
                } else if rng.chance(0.1 / (24.0 * DAYS as f64)) {
                    let until = at + Span::hours(24 + rng.below(24) as i64);
                    truth.push(Truth {
                        from: at,
                        price: None,
                        availability: Availability::OutOfStock,
                    });
                    truth.push(Truth {
                        from: until,
                        price: Some(price),
                        availability: Availability::InStock,
                    });
                    at = until;
                    continue;
                }
                at = at + hour;
            }
            let history = (0..5)
                .map(|k| AcceptedPoint {
                    price: Some(usd(truth[0].price.unwrap_or(100))),
                    availability: Availability::InStock,
                    at: START - Span::days(5 - k),
                })
                .collect();
            Product {
                asin,
                subscribers,
                truth,
                history,
                held: Vec::new(),
            }
        })
        .collect()
}

fn make_reporters(rng: &mut Rng) -> Vec<Reputation> {
    let mut reporters: Vec<Reputation> = (0..HONEST)
        .map(|_| {
            if rng.chance(0.9) {
                Reputation {
                    confirmed: 20 + rng.below(380) as u32,
                    refuted: u32::from(rng.chance(0.2)),
                    ..Reputation::new(START - Span::days(30 + rng.below(670) as i64))
                }
            } else {
                Reputation::new(START + Span::minutes(rng.below(DAYS as u64 * 1_440) as i64))
            }
        })
        .collect();
    reporters.extend(
        (0..MALICIOUS).map(|_| Reputation::new(START + Span::minutes(rng.below(2 * 1_440) as i64))),
    );
    reporters
}

/// Pick a product with probability proportional to `weight` (cumulative table).
fn pick(rng: &mut Rng, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1);
    let x = rng.below(total);
    cumulative.partition_point(|c| *c <= x)
}

fn make_reports(
    rng: &mut Rng,
    products: &[Product],
    reporters: &[Reputation],
    config: &JudgeConfig,
) -> (Vec<Report>, Vec<Campaign>) {
    let end = START + Span::days(DAYS);
    let mut by_interest = Vec::with_capacity(PRODUCTS);
    let mut by_attraction = Vec::with_capacity(PRODUCTS);
    let (mut a, mut b) = (0_u64, 0_u64);
    for p in products {
        a += 1 + u64::from(p.subscribers);
        by_interest.push(a);
        b += if p.subscribers >= 10 {
            u64::from(p.subscribers)
        } else {
            0
        };
        by_attraction.push(b);
    }

    let mut reports = Vec::new();
    let month_ms = Span::days(DAYS).as_millis() as u64;
    for (reporter, rep) in reporters.iter().enumerate().take(HONEST) {
        for _ in 0..VISITS_PER_DAY * DAYS as u64 {
            let at = START + Span::millis(rng.below(month_ms) as i64);
            if at < rep.first_seen {
                continue;
            }
            let product = pick(rng, &by_interest);
            let truth = products[product].truth_at(at);
            let misread = truth.price.is_some() && rng.below(1_000) < MISREAD_PER_MILLE;
            reports.push(Report {
                at,
                reporter,
                product,
                price: if misread {
                    truth.price.map(|p| p * 7 / 10)
                } else {
                    truth.price
                },
                availability: truth.availability,
                source: if misread {
                    Source::Misread
                } else {
                    Source::Honest
                },
            });
        }
    }

    let mut campaigns = Vec::new();
    let mut at = START + Span::hours(2);
    while at < end {
        let product = pick(rng, &by_attraction);
        let truth = products[product].truth_at(at).price.unwrap_or(10_000);
        let depth = match rng.below(3) {
            0 => rng.between(0.5, 0.8),
            1 => rng.between(0.8, 0.95),
            _ => rng.between(0.95, 0.9999),
        };
        let fake = ((truth as f64) * (1.0 - depth)).max(1.0) as i64;
        let group = 1 + rng.below(MALICIOUS as u64) as u32;
        let mut members: Vec<usize> = (HONEST..HONEST + MALICIOUS).collect();
        for i in 0..group as usize {
            let j = i + rng.below((members.len() - i) as u64) as usize;
            members.swap(i, j);
        }
        let reference = config.reference_price(&products[product].history, Currency::Usd);
        let required = config
            .consensus
            .required_reporters(reference.or(Some(usd(truth))), Some(usd(fake)));
        for &reporter in &members[..group as usize] {
            reports.push(Report {
                at: at + Span::minutes(rng.below(30) as i64),
                reporter,
                product,
                price: Some(fake),
                availability: Availability::InStock,
                source: Source::Fake {
                    campaign: campaigns.len(),
                },
            });
        }
        campaigns.push(Campaign {
            product,
            group,
            eligible: 0,
            required,
            published: false,
        });
        at = at + Span::hours(CAMPAIGN_EVERY_HOURS);
    }
    reports.sort_by_key(|r| (r.at, r.reporter));
    (reports, campaigns)
}

fn price_report(product: &Product, report: &Report, id: usize) -> PriceReport {
    let mut nonce = [0_u8; 16];
    nonce[..8].copy_from_slice(&(id as u64 + 1).to_be_bytes());
    PriceReport {
        marketplace: Marketplace::Us,
        asin: product.asin,
        price: report.price.map(usd),
        currency: Currency::Usd,
        availability: report.availability,
        observed_at: report.at,
        client_version: "1.0.0".to_owned(),
        nonce: Nonce::from_bytes(nonce),
    }
}

fn reporter_key(index: usize) -> ReporterKey {
    let mut bytes = [0_u8; 32];
    bytes[..8].copy_from_slice(&(index as u64).to_be_bytes());
    ReporterKey::from_bytes(bytes)
}

struct World {
    config: JudgeConfig,
    products: Vec<Product>,
    reporters: Vec<Reputation>,
    reports: Vec<Report>,
    campaigns: Vec<Campaign>,
    drops: Vec<GenuineDrop>,
    jobs: BinaryHeap<Reverse<(Timestamp, Job)>>,
    tally: Tally,
}

impl World {
    fn run(&mut self) {
        for id in 0..self.reports.len() {
            let now = self.reports[id].at;
            self.run_jobs_until(now);
            self.judge_report(id, now);
        }
        self.run_jobs_until(Timestamp::from_millis(i64::MAX));
    }

    fn run_jobs_until(&mut self, now: Timestamp) {
        while let Some(Reverse((at, job))) = self.jobs.peek().copied() {
            if at > now {
                break;
            }
            self.jobs.pop();
            self.crawl(job, at);
        }
    }

    fn judge_report(&mut self, id: usize, now: Timestamp) {
        let report = &self.reports[id];
        let product = &self.products[report.product];
        let reporter = self.reporters[report.reporter];
        let verdict = judge(
            &price_report(product, report, id),
            &ProductState {
                history: &product.history,
                subscribers: product.subscribers,
            },
            &reporter,
            &self.config,
            now,
        );
        self.tally.judged += 1;
        self.tally.decisions[match verdict.decision {
            Decision::Accept => 0,
            Decision::AcceptAndVerify => 1,
            Decision::Hold => 2,
            Decision::Reject => 3,
        }] += 1;
        let (p, price, availability, source) = (
            report.product,
            report.price,
            report.availability,
            report.source,
        );
        match source {
            Source::Misread => self.tally.misreads += 1,
            Source::Fake { campaign } => {
                self.tally.fake_reports += 1;
                if verdict.decision == Decision::Reject {
                    self.tally.fake_reports_rejected += 1;
                } else if verdict.reporter_score >= self.config.consensus.min_voter_score {
                    self.campaigns[campaign].eligible += 1;
                }
            }
            Source::Honest => {}
        }
        if let Some(drop) = self.drops.iter_mut().find(|d| {
            d.product == p
                && d.start <= now
                && now < d.end
                && d.first_report.is_none()
                && agrees(price, Some(d.price))
        }) {
            drop.first_report = Some((
                now,
                verdict.reporter_score >= self.config.trusted_at && source == Source::Honest,
            ));
        }
        match verdict.decision {
            Decision::Accept | Decision::AcceptAndVerify => {
                self.publish(p, price, availability, now, source);
                let job = if verdict.decision == Decision::Accept {
                    (now + ROUTINE_CHECK_AFTER, Job::Routine { report: id })
                } else {
                    (now + VERIFY_AFTER, Job::Verify { report: id })
                };
                self.jobs.push(Reverse(job));
            }
            Decision::Hold => {
                let held = HeldReport {
                    key: reporter_key(self.reports[id].reporter),
                    price: price.map(usd),
                    availability,
                    observed_at: now,
                    reporter_score: verdict.reporter_score,
                };
                self.products[p].held.push((held, id));
                self.jobs.push(Reverse((
                    now + HOLD_VERIFY_AFTER,
                    Job::VerifyHeld { report: id },
                )));
                self.try_consensus(p, now);
            }
            Decision::Reject => {}
        }
    }

    fn try_consensus(&mut self, p: usize, now: Timestamp) {
        let product = &mut self.products[p];
        // Scores move as verifications land: recompute them, as the server would.
        for (held, id) in &mut product.held {
            held.reporter_score = self.reporters[self.reports[*id].reporter].score(now);
        }
        let reference = self.config.reference_price(&product.history, Currency::Usd);
        let held: Vec<HeldReport> = product.held.iter().map(|(h, _)| *h).collect();
        if let ConsensusOutcome::Confirmed {
            price,
            availability,
            supporters,
            ..
        } = self.config.consensus.evaluate(reference, &held, now)
        {
            self.tally.consensus_confirmations += 1;
            let sources: Vec<Source> = product
                .held
                .iter()
                .filter(|(h, _)| supporters.contains(&h.key))
                .map(|(_, id)| self.reports[*id].source)
                .collect();
            product.held.retain(|(h, _)| !supporters.contains(&h.key));
            let source = sources
                .iter()
                .copied()
                .find(|s| *s != Source::Honest)
                .unwrap_or(Source::Honest);
            self.publish(p, price.map(|m| m.amount_minor), availability, now, source);
        }
    }

    fn publish(
        &mut self,
        p: usize,
        price: Option<i64>,
        availability: Availability,
        now: Timestamp,
        source: Source,
    ) {
        self.products[p].publish(price, availability, now);
        match source {
            Source::Fake { campaign } => self.campaigns[campaign].published = true,
            Source::Misread => self.tally.misreads_published += 1,
            Source::Honest => {}
        }
        for drop in &mut self.drops {
            if drop.product == p
                && drop.published_at.is_none()
                && drop.start <= now
                && now < drop.end
                && agrees(price, Some(drop.price))
            {
                drop.published_at = Some(now);
            }
        }
    }

    /// The oracle crawl: the truth at the report's `observed_at`, revealed now.
    fn crawl(&mut self, job: Job, now: Timestamp) {
        let (Job::Verify { report: id }
        | Job::VerifyHeld { report: id }
        | Job::Routine { report: id }) = job;
        let report = &self.reports[id];
        let p = report.product;
        let truth = self.products[p].truth_at(report.at);
        let true_report =
            agrees(report.price, truth.price) && report.availability == truth.availability;
        let reporter = report.reporter;
        if true_report {
            self.reporters[reporter].confirm();
        } else {
            self.reporters[reporter].refute();
        }
        let current = self.products[p].truth_at(now);
        match job {
            Job::Verify { .. } if !true_report => {
                // Revert: the crawler's observation replaces the refuted price.
                if self.reports[id].source == Source::Misread {
                    self.tally.misreads_reverted += 1;
                }
                self.publish(p, current.price, current.availability, now, Source::Honest);
            }
            Job::VerifyHeld { .. } => {
                let was_held = self.products[p].held.iter().any(|(_, h)| *h == id);
                self.products[p].held.retain(|(_, h)| *h != id);
                if was_held
                    && true_report
                    && !agrees(self.products[p].published_price(), current.price)
                {
                    self.publish(p, current.price, current.availability, now, Source::Honest);
                }
            }
            _ => {}
        }
    }
}

fn percentile(sorted: &[i64], pct: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) * pct) / 100]
}

#[test]
fn a_month_of_honest_and_coordinated_reports_publishes_no_fake_below_consensus_size() {
    // Arrange: a seeded month of products, reporters and reports.
    let mut rng = Rng(SEED);
    let config = JudgeConfig::default();
    let mut drops = Vec::new();
    let products = make_products(&mut rng, &mut drops);
    let reporters = make_reporters(&mut rng);
    let (reports, campaigns) = make_reports(&mut rng, &products, &reporters, &config);
    let mut world = World {
        config,
        products,
        reporters,
        reports,
        campaigns,
        drops,
        jobs: BinaryHeap::new(),
        tally: Tally::default(),
    };

    // Act.
    world.run();

    // Assert, after printing what happened.
    let fakes = world.campaigns.len();
    let fakes_published = world.campaigns.iter().filter(|c| c.published).count();
    let fakes_meeting_k = world
        .campaigns
        .iter()
        .filter(|c| c.group >= c.required)
        .count();
    let fakes_eligible_k = world
        .campaigns
        .iter()
        .filter(|c| c.eligible >= c.required)
        .count();
    let seen: Vec<&GenuineDrop> = world
        .drops
        .iter()
        .filter(|d| d.first_report.is_some())
        .collect();
    let mut delays: Vec<i64> = seen
        .iter()
        .filter_map(|d| Some((d.published_at? - d.first_report?.0).as_millis() / 60_000))
        .collect();
    delays.sort_unstable();
    let by_trusted: Vec<&&GenuineDrop> = seen
        .iter()
        .filter(|d| d.first_report.is_some_and(|(_, t)| t))
        .collect();
    let t = &world.tally;
    println!();
    println!("| trust simulation ({DAYS} days, {PRODUCTS} products, {HONEST} honest + {MALICIOUS} malicious keys) | |");
    println!("|---|---|");
    println!("| reports judged | {} |", t.judged);
    println!(
        "| accept / accept+verify / hold / reject | {} / {} / {} / {} |",
        t.decisions[0], t.decisions[1], t.decisions[2], t.decisions[3]
    );
    println!(
        "| consensus confirmations | {} |",
        t.consensus_confirmations
    );
    println!("| fake drops attempted (groups of 1-{MALICIOUS} keys) | {fakes} |");
    println!("| fake drops whose group met K (counting unburned keys only) | {fakes_meeting_k} ({fakes_eligible_k}) |");
    println!(
        "| fake reports (rejected outright) | {} ({}) |",
        t.fake_reports, t.fake_reports_rejected
    );
    println!(
        "| fake drops published (false-alert rate) | {fakes_published} ({:.1}%) |",
        100.0 * fakes_published as f64 / fakes.max(1) as f64
    );
    println!(
        "| honest misreads (published / reverted by verification) | {} ({} / {}) |",
        t.misreads, t.misreads_published, t.misreads_reverted
    );
    println!(
        "| genuine drops (reported / published while on) | {} ({} / {}) |",
        world.drops.len(),
        seen.len(),
        delays.len()
    );
    println!(
        "| genuine drops first reported by a trusted key | {} |",
        by_trusted.len()
    );
    println!(
        "| delay to accept a genuine drop, median / p90 / max | {} / {} / {} min |",
        percentile(&delays, 50),
        percentile(&delays, 90),
        delays.last().copied().unwrap_or(0)
    );

    for c in &world.campaigns {
        assert!(
            !c.published || c.eligible >= c.required,
            "a fake drop was published by {} voting keys, below K = {}",
            c.eligible,
            c.required
        );
        assert!(
            !c.published || c.group >= c.required,
            "a fake drop on product {} was published by {} keys, below K = {}",
            c.product,
            c.group,
            c.required
        );
    }
    assert!(!by_trusted.is_empty());
    for d in &by_trusted {
        assert_eq!(
            d.published_at,
            d.first_report.map(|(at, _)| at),
            "a trusted key's genuine drop waited"
        );
    }
    assert!(
        fakes > 50 && world.drops.len() > 300,
        "the month is too quiet to mean anything"
    );
}
