//! The helpers every store shares.

use pricewatch_server::db::{begin_with, Backend};
use sqlx::AnyConnection;

use crate::both_engines;
use crate::support::{spawn_app, Engine};

both_engines!(
    transaction_settings_last_for_their_transaction_only,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let backend = app.state.db.backend;
        let mut conn = app.state.db.write.acquire().await.unwrap();
        let mut tx = begin_with(
            &mut conn,
            backend,
            &[
                ("plan_cache_mode", "force_generic_plan"),
                ("enable_hashjoin", "off"),
            ],
        )
        .await
        .unwrap();
        if backend == Backend::Postgres {
            assert_eq!(
                settings(&mut tx).await,
                ("force_generic_plan".into(), "off".into())
            );
        }
        tx.commit().await.unwrap();
        if backend == Backend::Postgres {
            assert_eq!(
                settings(&mut conn).await,
                ("auto".into(), "on".into()),
                "the same connection, later"
            );
        }

        // It is a transaction: what it wrote is gone with its rollback.
        let mut tx = begin_with(&mut conn, backend, &[("enable_hashjoin", "off")])
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO users (email, created_at, updated_at) VALUES ('gone@x.org', 0, 0)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    }
);

/// The two settings the test sets, as the connection sees them now.
async fn settings(conn: &mut AnyConnection) -> (String, String) {
    sqlx::query_as("SELECT current_setting('plan_cache_mode'), current_setting('enable_hashjoin')")
        .fetch_one(conn)
        .await
        .unwrap()
}
