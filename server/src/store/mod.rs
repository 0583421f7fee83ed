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

/// A work-queue claim's row locks: PostgreSQL skips rows another replica is claiming
/// (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time already.
pub(crate) fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

/// `$first, $first+1, …`: `n` numbered parameters for an `IN (...)` list in a statement whose
/// other parameters are numbered too (both engines read `$n`).
pub(crate) fn numbered_params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::numbered_params;

    #[test]
    fn numbered_params_count_from_first() {
        assert_eq!(numbered_params(4, 3), "$4, $5, $6");
        assert_eq!(numbered_params(1, 1), "$1");
        assert_eq!(numbered_params(1, 0), "");
    }
}
