//! Integration tests of the thumbnail engine, as one test binary (one link instead of four).
//!
//! Fixtures live in `tests/fixtures/` and are made by `make_fixtures.py`, which also writes
//! the expected probe fields, thumbnail sizes and colours into `expected.json`. The corpus
//! tests read real photos from `../shared/corpus` (or `$PHOTOPIPE_CORPUS`) and skip with a
//! note when it is absent.

mod common;
mod corpus;
mod errors;
mod fixtures;
mod garbage;
