//! photopipe's local adapters: the ports of `photopipe-pipeline` implemented with what a
//! laptop has, so the very same step code that runs in the Lambdas runs in one binary.
//!
//! - [`storage`]: buckets as folders in the data dir ([`FolderStorage`]), never trusting a
//!   key as a path;
//! - [`catalog`]: `file_upload_catalog` in SQLite (default) or MySQL/MariaDB by URL
//!   ([`SqlCatalog`]), sending the pipeline crate's statements;
//! - [`alerts`]: e-mail over SMTP, or `.eml` files in an outbox folder ([`MailAlerts`]).

pub mod alerts;
pub mod catalog;
mod fsutil;
pub mod storage;

pub use alerts::{MailAlerts, MailConfig, MailConfigError};
pub use catalog::SqlCatalog;
pub use storage::FolderStorage;
