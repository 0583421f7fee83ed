//! Whole-server tests over real HTTP on 127.0.0.1, each run against SQLite and PostgreSQL.
//!
//! One integration-test binary (fast to link); modules by resource.

// A failed unwrap is a failed test with its location, which is what tests want.
#![allow(clippy::unwrap_used)]

mod support;

mod admin;
mod alerts;
mod auth;
mod consensus;
mod crawler;
mod db;
mod health;
mod history_storage;
mod mail;
mod products;
mod reporters;
mod reports;
mod security;
mod smtp_sink;
mod subscriptions;
mod web;
