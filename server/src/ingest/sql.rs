//! Placeholder lists and statement sizes for the multi-row statements.

use crate::db::Backend;

/// Bound on the bind parameters of one statement: far under SQLite's 32,766 and
/// PostgreSQL's 65,535, whatever `ingest.max_batch` is set to.
const MAX_PARAMS: usize = 8_000;

/// The `n`th (1-based) bind parameter of a statement whose parameters appear in the text in
/// the order they are bound.
///
/// SQLite gets a bare `?` (numbered by position): sqlx binds a named parameter such as `$7`
/// by asking SQLite for each parameter's name, a linear scan of the statement's names, which
/// makes binding a 1,400-value statement quadratic; it was a fifth of ingest's CPU.
fn push_param(out: &mut String, backend: Backend, n: usize) {
    match backend {
        Backend::Sqlite => out.push('?'),
        Backend::Postgres => {
            out.push('$');
            out.push_str(&n.to_string());
        }
    }
}

/// `($1, $2), ($3, $4)`: placeholders for `rows` rows of `cols` values, bound row by row.
pub(super) fn placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            push_param(&mut out, backend, r * cols + c + 1);
        }
        out.push(')');
    }
    out
}

/// `$3, $4, $5`: `n` parameters numbered from `first`, for an `IN (...)` list.
pub(super) fn list(backend: Backend, first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 5);
    for i in first..first + n {
        if i > first {
            out.push_str(", ");
        }
        push_param(&mut out, backend, i);
    }
    out
}

/// The single parameter `n`.
pub(super) fn param(backend: Backend, n: usize) -> String {
    let mut out = String::new();
    push_param(&mut out, backend, n);
    out
}

/// Row locks for rows this transaction will update (non-key columns only): serializes
/// writers to a product or reporter on PostgreSQL without blocking, or being blocked by,
/// transactions that merely insert rows referencing it. SQLite has one writer already.
pub(super) fn lock_for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR NO KEY UPDATE",
        Backend::Sqlite => "",
    }
}

/// Rows per statement for `cols` values per row.
pub(super) fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        let pg = Backend::Postgres;
        assert_eq!(placeholders(pg, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(pg, 1, 1), "($1)");
        assert_eq!(list(pg, 2, 3), "$2, $3, $4");
        assert_eq!(param(pg, 7), "$7");
    }

    #[test]
    fn sqlite_parameters_are_positional() {
        let lite = Backend::Sqlite;
        assert_eq!(placeholders(lite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(lite, 2, 3), "?, ?, ?");
        assert_eq!(param(lite, 7), "?");
    }

    #[test]
    fn statements_stay_under_the_parameter_limit() {
        for cols in [1, 2, 6, 14] {
            assert!(rows_per_statement(cols) * cols <= MAX_PARAMS);
            assert!(
                rows_per_statement(cols) >= 100,
                "a default batch is one statement"
            );
        }
    }
}
