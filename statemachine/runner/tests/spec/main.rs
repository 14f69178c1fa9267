//! Behaviour of the runner against the Amazon States Language specification, one small
//! definition per rule, plus the real photo pipeline definition with fake steps. Time is
//! paused in every async test, so retry delays and timeouts are exact and instant.

mod choice;
mod dataflow;
mod definition;
mod photo_pipeline;
mod retry_and_catch;
mod states;
mod support;
