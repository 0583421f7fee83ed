//! PriceWatch's server: ingest of signed price reports, price history, and the `pricewatch`
//! command line.
//!
//! # Layout
//! - [`app`]: `Application::build(settings)` (used by the binary and the tests) and `router`.
//! - [`config`]: typed, layered settings.
//! - [`db`]: the SQLite / PostgreSQL pools and migrations.
//! - [`routes`]: HTTP handlers, one module per resource, and the OpenAPI document.
//! - [`ingest`]: verify, judge, store and publish signed reports.
//! - [`store`]: SQL, one module per table family.
//! - [`crawler`]: the verification crawler, its politeness and its crawl scheduling.
//! - [`review`]: the admin review queue and its audited actions.
//! - [`web`]: the website's files and their security headers.
//! - [`auth`], [`accounts`]: passwordless sign-in, sessions, roles; account settings, export
//!   and deletion.
//! - [`subscriptions`], [`alerts`]: price alerts users manage, and the worker that turns price
//!   changes into notifications and delivers them ([`mail`], [`webhooks`]).
//! - [`error`]: the API error type and its one mapping to HTTP.
//! - [`history_packer`]: packs history into runs for fast chart reads.
//! - [`chart_cache`], [`clock`], [`rate_limit`], [`metrics`], [`state`]: shared services.
//! - [`cli`], [`commands`]: the `pricewatch` command.

pub mod accounts;
pub mod alerts;
pub mod app;
pub mod auth;
pub mod chart_cache;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crawler;
pub mod db;
pub mod error;
pub mod history_packer;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod rate_limit;
pub mod review;
pub mod routes;
pub mod state;
pub mod store;
pub mod subscriptions;
pub mod web;
pub mod webhooks;
