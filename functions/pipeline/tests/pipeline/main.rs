//! The pipeline's steps against in-memory ports: one test binary, one module per concern.

mod catalog;
mod keys;
mod on_failure;
mod resize;
mod sql;
mod support;
mod trigger;
mod validate;
