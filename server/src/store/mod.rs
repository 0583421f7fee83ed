//! SQL, one module per table family. Functions take a connection so that callers compose them
//! inside one transaction when a change must land whole.

pub mod audit;
pub mod crawl_hosts;
pub mod crawl_jobs;
pub mod notifications;
pub mod outbox;
pub mod points;
pub mod price_runs;
pub mod products;
pub mod reporters;
pub mod reports;
pub mod sessions;
pub mod subscriptions;
pub mod users;

use crate::db::Backend;

/// Row locking where the engine has it: PostgreSQL serializes writers per row with
/// `FOR UPDATE`; SQLite has one writer at a time already.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}
