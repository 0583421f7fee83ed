//! HTTP routes, one module per resource; [`api::router`] merges them with their OpenAPI
//! description so the document always matches what is served.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod channels;
pub mod health;
pub mod notifications;
pub mod products;
pub mod reporters;
pub mod reports;
pub mod subscriptions;
pub mod unsubscribe;
