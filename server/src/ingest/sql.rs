//! Placeholder lists and statement sizes for the multi-row statements.

use crate::db::Backend;

/// Bound on the bind parameters of one statement: far under SQLite's 32,766 and
/// PostgreSQL's 65,535, whatever `ingest.max_batch` is set to.
const MAX_PARAMS: usize = 8_000;

/// `($1, $2), ($3, $4)`: placeholders for `rows` rows of `cols` values.
pub(super) fn placeholders(rows: usize, cols: usize) -> String {
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
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
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
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
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
