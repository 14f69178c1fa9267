//! In-memory fakes of the ports, with one-shot fault injection, and test fixtures.

use photopipe_engine::{Layout, Pixels, Spec};
use photopipe_pipeline::model::{CatalogRow, StepInput, Upload};
use photopipe_pipeline::ports::{
    Alert, Alerts, Catalog, CatalogOrder, Clock, Direction, InsertOutcome, NewObject, ObjectHead,
    PortError, Storage,
};
use std::collections::BTreeMap;
use std::sync::Mutex;
use time::macros::datetime;
use time::OffsetDateTime;

pub const INPUT: &str = "photos-in";
pub const OUTPUT: &str = "photos-out";
pub const LOGS: &str = "photos-logs";
pub const EXECUTION: &str = "IMG_0001.jpg-0123456789abcdef";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub cache_control: Option<String>,
}

/// Which storage call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Head,
    GetRange,
    Get,
    Put,
    PutIfAbsent,
    List,
}

#[derive(Default)]
pub struct MemoryStorage {
    objects: Mutex<BTreeMap<(String, String), StoredObject>>,
    faults: Mutex<Vec<(Op, String, PortError)>>,
    calls: Mutex<Vec<(Op, String, u64)>>,
}

impl MemoryStorage {
    pub fn insert(&self, bucket: &str, key: &str, bytes: &[u8]) {
        self.objects.lock().unwrap().insert(
            (bucket.into(), key.into()),
            StoredObject {
                bytes: bytes.to_vec(),
                content_type: "application/octet-stream".into(),
                cache_control: None,
            },
        );
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        self.objects
            .lock()
            .unwrap()
            .get(&(bucket.into(), key.into()))
            .cloned()
    }

    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        self.objects
            .lock()
            .unwrap()
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// The next `op` on a key starting with `key_prefix` fails with `error`.
    pub fn fail_next(&self, op: Op, key_prefix: &str, error: PortError) {
        self.faults
            .lock()
            .unwrap()
            .push((op, key_prefix.into(), error));
    }

    /// Every call so far: operation, key, and the length or limit it asked for.
    pub fn calls(&self) -> Vec<(Op, String, u64)> {
        self.calls.lock().unwrap().clone()
    }

    fn enter(&self, op: Op, key: &str, len: u64) -> Result<(), PortError> {
        self.calls.lock().unwrap().push((op, key.into(), len));
        let mut faults = self.faults.lock().unwrap();
        match faults
            .iter()
            .position(|(o, prefix, _)| *o == op && key.starts_with(prefix.as_str()))
        {
            Some(index) => Err(faults.remove(index).2),
            None => Ok(()),
        }
    }

    fn read(&self, bucket: &str, key: &str) -> Result<Vec<u8>, PortError> {
        self.object(bucket, key)
            .map(|o| o.bytes)
            .ok_or(PortError::NotFound)
    }

    fn store(&self, bucket: &str, key: &str, object: NewObject<'_>, replace: bool) -> bool {
        let mut objects = self.objects.lock().unwrap();
        let slot = (bucket.to_owned(), key.to_owned());
        if !replace && objects.contains_key(&slot) {
            return false;
        }
        objects.insert(
            slot,
            StoredObject {
                bytes: object.bytes.to_vec(),
                content_type: object.content_type.into(),
                cache_control: object.cache_control.map(Into::into),
            },
        );
        true
    }
}

impl Storage for MemoryStorage {
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectHead, PortError> {
        self.enter(Op::Head, key, 0)?;
        let object = self.object(bucket, key).ok_or(PortError::NotFound)?;
        Ok(ObjectHead {
            size: object.bytes.len() as u64,
            etag: Some("etag".into()),
            content_type: Some(object.content_type),
        })
    }

    async fn get_range(&self, bucket: &str, key: &str, len: u64) -> Result<Vec<u8>, PortError> {
        self.enter(Op::GetRange, key, len)?;
        let mut bytes = self.read(bucket, key)?;
        bytes.truncate(len as usize);
        Ok(bytes)
    }

    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, PortError> {
        self.enter(Op::Get, key, max_bytes)?;
        let bytes = self.read(bucket, key)?;
        if bytes.len() as u64 > max_bytes {
            return Err(PortError::OverLimit {
                size: bytes.len() as u64,
                max_bytes,
            });
        }
        Ok(bytes)
    }

    async fn put(&self, bucket: &str, key: &str, object: NewObject<'_>) -> Result<(), PortError> {
        self.enter(Op::Put, key, object.bytes.len() as u64)?;
        self.store(bucket, key, object, true);
        Ok(())
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
    ) -> Result<bool, PortError> {
        self.enter(Op::PutIfAbsent, key, object.bytes.len() as u64)?;
        Ok(self.store(bucket, key, object, false))
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        self.enter(Op::List, prefix, 0)?;
        Ok(self.keys(bucket, prefix))
    }
}

/// The catalog table: a unique idempotency key, ids from 1.
#[derive(Default)]
pub struct MemoryCatalog {
    rows: Mutex<Vec<CatalogRow>>,
    next_insert_fails: Mutex<Option<PortError>>,
}

impl MemoryCatalog {
    pub fn rows(&self) -> Vec<CatalogRow> {
        self.rows.lock().unwrap().clone()
    }

    pub fn fail_next_insert(&self, error: PortError) {
        *self.next_insert_fails.lock().unwrap() = Some(error);
    }
}

impl Catalog for MemoryCatalog {
    async fn insert_idempotent(&self, row: &CatalogRow) -> Result<InsertOutcome, PortError> {
        if let Some(error) = self.next_insert_fails.lock().unwrap().take() {
            return Err(error);
        }
        let mut rows = self.rows.lock().unwrap();
        if let Some(existing) = rows
            .iter()
            .find(|r| r.idempotency_key == row.idempotency_key)
        {
            return Ok(InsertOutcome::AlreadyPresent(existing.clone()));
        }
        let stored = CatalogRow {
            id: Some(rows.len() as i64 + 1),
            ..row.clone()
        };
        rows.push(stored.clone());
        Ok(InsertOutcome::Inserted(stored))
    }

    async fn list(
        &self,
        order: CatalogOrder,
        direction: Direction,
        limit: u32,
    ) -> Result<Vec<CatalogRow>, PortError> {
        let mut rows = self.rows();
        rows.sort_by(|a, b| {
            let by_column = match order {
                CatalogOrder::UploadTime => {
                    (&a.upload_date, &a.upload_time).cmp(&(&b.upload_date, &b.upload_time))
                }
                CatalogOrder::ThumbnailSize => a.thumbnail_size.cmp(&b.thumbnail_size),
                CatalogOrder::OriginalSize => a.original_size.cmp(&b.original_size),
            };
            by_column.then(a.id.cmp(&b.id))
        });
        if direction == Direction::Desc {
            rows.reverse();
        }
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn by_idempotency_key(&self, key: &str) -> Result<Option<CatalogRow>, PortError> {
        Ok(self.rows().into_iter().find(|r| r.idempotency_key == key))
    }
}

#[derive(Default)]
pub struct RecordingAlerts {
    sent: Mutex<Vec<Alert>>,
    next_send_fails: Mutex<Option<PortError>>,
}

impl RecordingAlerts {
    pub fn sent(&self) -> Vec<Alert> {
        self.sent.lock().unwrap().clone()
    }

    pub fn fail_next(&self, error: PortError) {
        *self.next_send_fails.lock().unwrap() = Some(error);
    }
}

impl Alerts for RecordingAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), PortError> {
        if let Some(error) = self.next_send_fails.lock().unwrap().take() {
            return Err(error);
        }
        self.sent.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn at(now: OffsetDateTime) -> Self {
        FixedClock(Mutex::new(now))
    }

    pub fn set(&self, now: OffsetDateTime) {
        *self.0.lock().unwrap() = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// An upload of `key` in the input bucket, created at 2024-05-01 12:34:56.789 UTC.
pub fn upload(key: &str, size: u64) -> Upload {
    Upload {
        bucket: INPUT.into(),
        key: key.into(),
        size,
        etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
        version_id: None,
        event_time: datetime!(2024-05-01 12:34:56.789 UTC),
    }
}

pub fn step<T>(input: T) -> StepInput<T> {
    StepInput {
        execution_name: EXECUTION.into(),
        input,
    }
}

/// A `width`×`height` JPEG with a gradient, made by the engine's encoder.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let data = (0..height)
        .flat_map(|y| (0..width).flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, 128]))
        .collect();
    let pixels = Pixels {
        width,
        height,
        layout: Layout::Rgb,
        data,
    };
    photopipe_engine::encode::encode(
        &pixels,
        &Spec {
            max_edge: width.max(height),
            ..Spec::default()
        },
    )
    .expect("the test JPEG encodes")
}
