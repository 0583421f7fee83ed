//! The helpers every store shares.

use pricewatch_server::db::{set_local, Backend};
use sqlx::{AnyConnection, Connection};

use crate::both_engines;
use crate::support::{spawn_app, Engine};

both_engines!(
    transaction_settings_last_for_their_transaction_only,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let backend = app.state.db.backend;
        let mut conn = app.state.db.write.acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        set_local(
            &mut tx,
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
    }
);

/// The two settings the test sets, as the connection sees them now.
async fn settings(conn: &mut AnyConnection) -> (String, String) {
    sqlx::query_as("SELECT current_setting('plan_cache_mode'), current_setting('enable_hashjoin')")
        .fetch_one(conn)
        .await
        .unwrap()
}
