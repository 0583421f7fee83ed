//! HTTP routes, one module per resource; [`api::router`] merges them with their OpenAPI
//! description so the document always matches what is served.

pub mod api;
pub mod health;
pub mod products;
pub mod reporters;
pub mod reports;
