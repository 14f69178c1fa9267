//! The knobs of the steps: buckets, limits, thumbnail spec, gallery size and alert budget.
//!
//! One struct for all steps keeps the environment-variable mapping (done by the Lambdas and
//! the local runner) in one place; each step reads only its part.

use photopipe_engine::{Limits, Spec};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Thumbnails and `gallery.json` go here (it is also the static website).
    pub output_bucket: String,
    /// Failure records and alert bookkeeping go here.
    pub log_bucket: String,
    pub limits: Limits,
    pub thumbnail: Spec,
    /// How many photos `gallery.json` lists, newest first.
    pub gallery_size: u32,
    pub alerts: AlertPolicy,
}

impl Config {
    /// The defaults, with the two buckets every deployment names.
    pub fn new(output_bucket: impl Into<String>, log_bucket: impl Into<String>) -> Self {
        Config {
            output_bucket: output_bucket.into(),
            log_bucket: log_bucket.into(),
            limits: Limits::default(),
            thumbnail: Spec::default(),
            gallery_size: 500,
            alerts: AlertPolicy::default(),
        }
    }
}

/// How many alerts a burst of failures may cause (see [`crate::steps::on_failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    /// Individual alerts per window; the next failure sends one burst notice instead.
    pub max_per_window: u32,
    /// Windows are aligned to the Unix epoch (an hour: on the hour).
    pub window: Duration,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            max_per_window: 10,
            window: Duration::from_secs(3600),
        }
    }
}
