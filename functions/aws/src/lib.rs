//! photopipe on AWS: the adapters that give the pipeline's ports their AWS services, and the
//! glue the five Lambdas share.
//!
//! The step logic lives in `photopipe-pipeline` and knows nothing of AWS; the local runner
//! gives the same ports folders, SQL and mail. This crate is the other side: S3 for
//! [`Storage`](photopipe_pipeline::Storage), the RDS Data API for
//! [`Catalog`](photopipe_pipeline::Catalog), SNS for [`Alerts`](photopipe_pipeline::Alerts),
//! and Step Functions for the trigger's `StartExecution`. Each adapter sorts the SDK's
//! failures into [`PortError`](photopipe_pipeline::PortError)s ([`classify`]), which is what
//! lets the state machine retry a throttled call and not an access denied.
//!
//! Every service is a cargo feature, so a Lambda crate enables the ones its step calls and
//! compiles no other SDK. [`lambda`] holds what every `main.rs` would otherwise repeat:
//! environment, logs, metrics, and the typed `errorType` Step Functions matches on.

pub mod classify;
pub mod lambda;
pub mod sdk;

#[cfg(feature = "custom-resource")]
pub mod custom_resource;
#[cfg(feature = "rdsdata")]
pub mod data_api;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "sfn")]
pub mod sfn;
#[cfg(feature = "sns")]
pub mod sns;

#[cfg(feature = "rdsdata")]
pub use data_api::{DataApiCatalog, DataApiTarget};
#[cfg(feature = "s3")]
pub use s3::S3Storage;
#[cfg(feature = "sfn")]
pub use sfn::{SfnStarter, Started};
#[cfg(feature = "sns")]
pub use sns::SnsAlerts;
