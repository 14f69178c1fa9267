//! End-to-end tests of the local pipeline through the real `photopipe` binary: uploads over
//! HTTP to `photopipe serve`, the catalog on SQLite and on the real MariaDB, alerts to a
//! real SMTP socket, faults (database away, mail server down, duplicate uploads); `run` and
//! `reprocess` as processes.

mod support;

mod database_url;
mod reprocess;
mod run;
mod serve;
