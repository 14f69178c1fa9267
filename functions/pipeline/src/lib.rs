//! photopipe's pipeline steps, written once for every runtime.
//!
//! The design card fixes the flow — an S3 upload starts a Step Functions execution whose
//! tasks validate the photo, make its thumbnail, catalog it, or record and alert a failure.
//! This crate is that flow's logic and nothing else: plain async functions over small
//! [`ports`] (storage, catalog, alerts, clock). The AWS Lambdas wrap them with `aws-sdk`
//! adapters; the local runner wraps them with folders, SQL and mail. No SDK, database driver
//! or mailer is linked here, so each Lambda binary carries only what its own step needs.
//!
//! - [`trigger`]: an S3 event record → the execution to start and its deterministic name;
//! - [`steps`]: `validate`, `resize`, `catalog`, `on_failure`, each taking the state
//!   machine's task input (`{"execution_name", "input"}`, see `statemachine/README.md`);
//! - [`model`]: the JSON that flows between the steps, the catalog row, the failure record;
//! - [`sql`]: the catalog's migrations and statements, shared by every SQL adapter;
//! - [`gallery`]: the `gallery.json` the static website renders;
//! - [`keys`]: where everything is stored, and the names derived from an upload.

pub mod config;
pub mod error;
pub mod gallery;
pub mod keys;
pub mod model;
pub mod ports;
pub mod sql;
pub mod steps;
pub mod timefmt;
pub mod trigger;

pub use config::{AlertPolicy, Config};
pub use error::{ErrorType, StepError};
pub use model::{
    AlertOutcome, CatalogRow, Cataloged, FailureRecord, StepInput, ThumbnailInfo, Upload,
    Validation,
};
pub use ports::{Alert, Alerts, Catalog, Clock, InsertOutcome, ObjectHead, PortError, Storage};
