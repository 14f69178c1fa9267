//! Buckets as folders: the local stand-in for S3, so the steps read uploads from
//! `<data dir>/input`, write thumbnails that `serve` hands out from `<data dir>/output`, and
//! leave failure records in `<data dir>/logs`.
//!
//! **Keys are never paths.** A key is split on `/` and each segment is percent-encoded
//! where a file name could otherwise escape its folder, collide, or hide: `%`, `\`, control
//! characters (NUL included) and a leading `.` (so `.` and `..` become `%2E` and `%2E.`).
//! An empty segment (`a//b`, a trailing `/`) becomes `%`, which no other segment encodes
//! to. Everything else stays readable: the key `green meadow.jpg` is the file
//! `input/green meadow.jpg`. The inverse ([`decode_path`]) accepts only names that
//! [`encode_key`] produces, so each file has at most one key and each key one file; names
//! starting with a dot (temporary files, the metadata folder, editors' swap files) are never
//! keys.
//!
//! **Writes are atomic.** Objects are written to a temporary file in the destination
//! folder and renamed into place (or hard-linked, for create-only writes), so readers and
//! folder watchers never see half a file. An [`ObjectWriter`] takes an object piece by piece
//! (an upload's body as it arrives), so a large upload is never held in memory whole.
//!
//! **Writes are durable where it matters.** An object is flushed to disk before it is
//! published (an fsync, milliseconds each), so a crash never leaves an upload or a failure
//! record empty — except in buckets marked [`FolderStorage::rebuildable`], whose objects
//! (thumbnails, the gallery data, the website) are remade from the others by running the
//! pipeline again.
//!
//! **Metadata.** What S3 keeps with an object (content type, cache control, ETag) is kept
//! with the file, in its extended attribute `user.photopipe.meta`, set before the file is
//! published, so object and metadata appear together. On a file system without user
//! extended attributes it goes to a sidecar `<bucket>/.photopipe-meta/<SHA-256 of the
//! key>.json` instead (a second file per object, which is what it costs on ext4: creating
//! files, not writing bytes). Either is valid while it describes the current file (same
//! size, inode and modification time). Files that arrive by other means, or replaced behind
//! our back, get their ETag hashed from their content and their content type guessed from
//! their extension. ETags are content hashes (BLAKE3, 128 bits: S3's are MD5 for simple
//! uploads; BLAKE3 is several times faster here than MD5 or SHA-256), so the same bytes always
//! give the same execution name.
//!
//! Limits of a file system: a key cannot be both an object and a "folder" of other keys
//! (`a` and `a/b`), and a segment's encoding must fit a file name (255 bytes); such writes
//! fail permanently. Symbolic links inside the data dir are followed: it is the operator's
//! folder.

use crate::fsutil::{blocking, port_error, write_atomically, Sync, TempFile};
use photopipe_pipeline::ports::{NewObject, ObjectHead, PortError, Storage};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xattr::FileExt as _;

/// The extended attribute holding an object's metadata.
const META_XATTR: &str = "user.photopipe.meta";
/// The hidden folder of sidecars in each bucket, where files cannot have [`META_XATTR`].
const META_DIR: &str = ".photopipe-meta";
/// What `setxattr(2)` fails with on a file system without user extended attributes.
const EOPNOTSUPP: i32 = 95;
/// What an empty key segment is stored as: `%` never appears alone in other encodings.
const EMPTY_SEGMENT: &str = "%";
/// Hex digits of BLAKE3 in an ETag: 128 bits, the length of S3's MD5 ETags.
const ETAG_HEX: usize = 32;

/// Buckets mapped to folders. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FolderStorage {
    buckets: Arc<HashMap<String, PathBuf>>,
    /// Buckets written without waiting for the disk (see the module doc).
    rebuildable: Arc<HashSet<String>>,
}

/// Everything stored about an object, for the website server, which also needs the
/// `Cache-Control` that [`ObjectHead`] leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub head: ObjectHead,
    pub cache_control: Option<String>,
}

/// An object's metadata, as stored in its extended attribute or sidecar.
#[derive(Debug, Serialize, Deserialize)]
struct StoredMetadata {
    /// In sidecars only, for people looking into their folder: a sidecar's name is a hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    content_type: String,
    cache_control: Option<String>,
    etag: String,
    /// The file this describes; a file replaced or changed by other means no longer matches.
    size: u64,
    inode: u64,
    mtime_ns: i128,
}

impl StoredMetadata {
    fn describes(&self, metadata: &Metadata) -> bool {
        self.size == metadata.len()
            && self.inode == metadata.ino()
            && self.mtime_ns == mtime_ns(metadata)
    }
}

impl FolderStorage {
    /// Buckets by name, e.g. `[("input", data.join("input")), ("output", …), ("logs", …)]`.
    /// The folders are created on the first write.
    pub fn new<B, P>(buckets: impl IntoIterator<Item = (B, P)>) -> Self
    where
        B: Into<String>,
        P: Into<PathBuf>,
    {
        let buckets = buckets
            .into_iter()
            .map(|(bucket, dir)| (bucket.into(), dir.into()))
            .collect();
        FolderStorage {
            buckets: Arc::new(buckets),
            rebuildable: Arc::default(),
        }
    }

    /// Marks `buckets` as holding only data the pipeline can remake, so their writes skip
    /// the fsync (a crash may then leave an empty or missing thumbnail, which reprocessing
    /// the upload repairs).
    pub fn rebuildable<'a>(mut self, buckets: impl IntoIterator<Item = &'a str>) -> Self {
        self.rebuildable = Arc::new(buckets.into_iter().map(str::to_owned).collect());
        self
    }

    fn sync_for(&self, bucket: &str) -> Sync {
        if self.rebuildable.contains(bucket) {
            Sync::Skip
        } else {
            Sync::Flush
        }
    }

    /// The folder of `bucket`; an unknown bucket is a permanent error, as S3's
    /// `NoSuchBucket` is.
    pub fn bucket_dir(&self, bucket: &str) -> Result<&Path, PortError> {
        self.buckets
            .get(bucket)
            .map(PathBuf::as_path)
            .ok_or_else(|| PortError::Permanent(format!("no such bucket: {bucket:?}")))
    }

    /// Where the object `key` of `bucket` is stored (see the module's mapping rules).
    pub fn path_for_key(&self, bucket: &str, key: &str) -> Result<PathBuf, PortError> {
        Ok(self.bucket_dir(bucket)?.join(encode_key(key)))
    }

    /// The key stored at `path` (inside the folder of `bucket`), for a folder watcher:
    /// `None` for paths outside the bucket, hidden or temporary files, and names that are
    /// not the encoding of any key (e.g. `100%.jpg` copied in by hand).
    pub fn key_for_path(&self, bucket: &str, path: &Path) -> Option<String> {
        decode_path(path.strip_prefix(self.bucket_dir(bucket).ok()?).ok()?)
    }

    /// Whether the file of `key` has not been modified for `quiet`: a folder watcher's sign
    /// that a file copied in by other means is whole (S3 only announces complete objects).
    /// A file that cannot be read is settled: processing it reports why.
    pub fn is_settled(&self, bucket: &str, key: &str, quiet: Duration) -> bool {
        let modified = self
            .path_for_key(bucket, key)
            .ok()
            .and_then(|path| fs::metadata(path).ok()?.modified().ok());
        modified.is_none_or(|modified| {
            // A time in the future was set on purpose (`cp -p`, `rsync -t`, a camera's
            // clock), after the copy: the file is whole.
            SystemTime::now()
                .duration_since(modified)
                .map_or(true, |age| age >= quiet)
        })
    }

    /// [`Storage::head`] plus the object's `Cache-Control`.
    pub async fn describe(&self, bucket: &str, key: &str) -> Result<ObjectInfo, PortError> {
        let path = self.path_for_key(bucket, key)?;
        let meta_path = self.sidecar_path(bucket, key)?;
        let key = key.to_owned();
        blocking(move || {
            let what = object_label(&path);
            let metadata = object_metadata(&path).map_err(|err| port_error(&what, err))?;
            let stored =
                read_stored(&path, &meta_path).filter(|stored| stored.describes(&metadata));
            let (etag, content_type, cache_control) = match stored {
                Some(stored) => (stored.etag, stored.content_type, stored.cache_control),
                None => {
                    let etag = hash_file(&path).map_err(|err| port_error(&what, err))?;
                    let content_type = guess_content_type(&key).to_owned();
                    remember_metadata(
                        &path,
                        &StoredMetadata {
                            key: None,
                            content_type: content_type.clone(),
                            cache_control: None,
                            etag: etag.clone(),
                            size: metadata.len(),
                            inode: metadata.ino(),
                            mtime_ns: mtime_ns(&metadata),
                        },
                    );
                    (etag, content_type, None)
                }
            };
            Ok(ObjectInfo {
                head: ObjectHead {
                    size: metadata.len(),
                    etag: Some(etag),
                    content_type: Some(content_type),
                },
                cache_control,
            })
        })
        .await
    }

    fn sidecar_path(&self, bucket: &str, key: &str) -> Result<PathBuf, PortError> {
        let name = format!("{:x}.json", Sha256::digest(key.as_bytes()));
        Ok(self.bucket_dir(bucket)?.join(META_DIR).join(name))
    }

    /// A new object of `bucket` written piece by piece (an upload's body as it arrives, a
    /// file copied in), so it is never held in memory whole. Blocking: call it, and the
    /// writer's methods, off the async runtime's threads.
    pub fn object_writer(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<ObjectWriter, PortError> {
        let path = self.path_for_key(bucket, key)?;
        let meta_path = self.sidecar_path(bucket, key)?;
        let temp = TempFile::create(path.parent().unwrap_or(Path::new(".")))
            .map_err(|err| write_error(&object_label(&path), err))?;
        Ok(ObjectWriter {
            temp,
            hash: blake3::Hasher::new(),
            path,
            meta_path,
            key: key.to_owned(),
            sync: self.sync_for(bucket),
            content_type: content_type.to_owned(),
            cache_control: cache_control.map(str::to_owned),
        })
    }

    /// `put` and `put_if_absent`: `false` when `only_if_absent` and the key was taken.
    async fn write(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
        only_if_absent: bool,
    ) -> Result<bool, PortError> {
        let storage = self.clone();
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        let (content_type, cache_control) = (
            object.content_type.to_owned(),
            object.cache_control.map(str::to_owned),
        );
        let bytes = object.bytes.to_vec();
        blocking(move || {
            let mut writer =
                storage.object_writer(&bucket, &key, &content_type, cache_control.as_deref())?;
            writer.write(&bytes)?;
            writer.publish(only_if_absent)
        })
        .await
    }
}

/// An object being written: nothing is visible under its key until
/// [`publish`](Self::publish); dropped unpublished, it leaves nothing behind.
pub struct ObjectWriter {
    temp: TempFile,
    /// The ETag, computed as the bytes go by.
    hash: blake3::Hasher,
    path: PathBuf,
    meta_path: PathBuf,
    key: String,
    sync: Sync,
    content_type: String,
    cache_control: Option<String>,
}

impl ObjectWriter {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), PortError> {
        self.hash.update(bytes);
        self.temp
            .write_all(bytes)
            .map_err(|err| write_error(&object_label(&self.path), err))
    }

    /// Makes the object visible under its key, atomically, with its metadata; with
    /// `only_if_absent`, only if the key is free (`false` when it was taken).
    pub fn publish(self, only_if_absent: bool) -> Result<bool, PortError> {
        let what = object_label(&self.path);
        let failed = |err| write_error(&what, err);
        let metadata = self.temp.finish(self.sync).map_err(failed)?;
        let mut stored = StoredMetadata {
            key: None,
            content_type: self.content_type,
            cache_control: self.cache_control,
            etag: self.hash.finalize().to_hex()[..ETAG_HEX].to_owned(),
            size: metadata.len(),
            inode: metadata.ino(),
            mtime_ns: mtime_ns(&metadata),
        };
        let json = serde_json::to_vec(&stored).expect("metadata serializes");
        let in_xattr = set_metadata_xattr(self.temp.file(), &json).map_err(failed)?;
        let created = if only_if_absent {
            self.temp.create_new(&self.path).map_err(failed)?
        } else {
            self.temp.replace(&self.path).map_err(failed)?;
            true
        };
        if created && !in_xattr {
            stored.key = Some(self.key);
            let json = serde_json::to_vec(&stored).expect("metadata serializes");
            // The sidecar vouches for itself (it is ignored unless it matches the file), so
            // losing it in a crash costs a re-hash, not data: no fsync.
            write_atomically(&self.meta_path, &json, Sync::Skip).map_err(failed)?;
        }
        Ok(created)
    }
}

impl Storage for FolderStorage {
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectHead, PortError> {
        Ok(self.describe(bucket, key).await?.head)
    }

    async fn get_range(&self, bucket: &str, key: &str, len: u64) -> Result<Vec<u8>, PortError> {
        let path = self.path_for_key(bucket, key)?;
        blocking(move || {
            let read = || {
                let (file, metadata) = open_object(&path)?;
                let mut bytes = Vec::with_capacity(len.min(metadata.len()) as usize);
                file.take(len).read_to_end(&mut bytes)?;
                Ok(bytes)
            };
            read().map_err(|err| port_error(object_label(&path), err))
        })
        .await
    }

    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Vec<u8>, PortError> {
        let path = self.path_for_key(bucket, key)?;
        blocking(move || {
            let (file, metadata) =
                open_object(&path).map_err(|err| port_error(object_label(&path), err))?;
            let over = |size| PortError::OverLimit { size, max_bytes };
            if metadata.len() > max_bytes {
                return Err(over(metadata.len()));
            }
            let mut bytes = Vec::with_capacity(metadata.len() as usize);
            // One byte more than allowed tells a file that grew since the check.
            file.take(max_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|err| port_error(object_label(&path), err))?;
            if bytes.len() as u64 > max_bytes {
                return Err(over(bytes.len() as u64));
            }
            Ok(bytes)
        })
        .await
    }

    async fn put(&self, bucket: &str, key: &str, object: NewObject<'_>) -> Result<(), PortError> {
        self.write(bucket, key, object, false).await.map(drop)
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject<'_>,
    ) -> Result<bool, PortError> {
        self.write(bucket, key, object, true).await
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        let root = self.bucket_dir(bucket)?.to_owned();
        // Only the folder of the prefix's complete segments can hold matches.
        let start = match prefix.rsplit_once('/') {
            Some((folders, _)) => encode_key(folders),
            None => PathBuf::new(),
        };
        let prefix = prefix.to_owned();
        blocking(move || {
            let mut keys = Vec::new();
            collect_keys(&root, &start, &prefix, &mut keys)
                .map_err(|err| port_error(root.join(&start).display(), err))?;
            Ok(keys)
        })
        .await
    }
}

/// The relative path of `key` in its bucket folder.
pub fn encode_key(key: &str) -> PathBuf {
    key.split('/').map(encode_segment).collect()
}

/// The key stored at `relative` (a path inside a bucket folder), if it is the encoding of
/// one.
pub fn decode_path(relative: &Path) -> Option<String> {
    let segments = relative
        .components()
        .map(|component| match component {
            Component::Normal(name) => decode_segment(name.to_str()?),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!segments.is_empty()).then(|| segments.join("/"))
}

fn encode_segment(segment: &str) -> String {
    if segment.is_empty() {
        return EMPTY_SEGMENT.to_owned();
    }
    let mut encoded = String::with_capacity(segment.len());
    for (at, c) in segment.char_indices() {
        if c.is_control() || c == '%' || c == '\\' || (at == 0 && c == '.') {
            for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                write!(encoded, "%{byte:02X}").expect("writing to a String");
            }
        } else {
            encoded.push(c);
        }
    }
    encoded
}

/// The segment `name` encodes, or `None` when `name` is not exactly what
/// [`encode_segment`] makes of some segment.
fn decode_segment(name: &str) -> Option<String> {
    if name == EMPTY_SEGMENT {
        return Some(String::new());
    }
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name;
    while let Some(percent) = rest.find('%') {
        bytes.extend_from_slice(&rest.as_bytes()[..percent]);
        let hex = rest.get(percent + 1..percent + 3)?;
        bytes.push(u8::from_str_radix(hex, 16).ok()?);
        rest = &rest[percent + 3..];
    }
    bytes.extend_from_slice(rest.as_bytes());
    let segment = String::from_utf8(bytes).ok()?;
    // Rejects everything not canonical: `%41`, lowercase hex, a bare `.x`, `100%.jpg`.
    (encode_segment(&segment) == name).then_some(segment)
}

/// Walks `root/relative`, adding the keys of its files that start with `prefix`.
fn collect_keys(
    root: &Path,
    relative: &Path,
    prefix: &str,
    keys: &mut Vec<String>,
) -> io::Result<()> {
    let entries = match fs::read_dir(root.join(relative)) {
        Ok(entries) => entries,
        // No folder, no keys (a bucket folder is created on its first write).
        Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(())
        }
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        // Sidecars, temporary files and other hidden files are never objects.
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = relative.join(&name);
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            collect_keys(root, &path, prefix, keys)?;
        } else if let Some(key) = decode_path(&path) {
            if key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    Ok(())
}

/// Opens an object's file; a folder is no object.
fn open_object(path: &Path) -> io::Result<(File, Metadata)> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(ErrorKind::IsADirectory.into());
    }
    Ok((file, metadata))
}

fn object_metadata(path: &Path) -> io::Result<Metadata> {
    let metadata = fs::metadata(path)?;
    if metadata.is_dir() {
        return Err(ErrorKind::IsADirectory.into());
    }
    Ok(metadata)
}

/// Stores `json` in the file's [`META_XATTR`]: `false` when its file system has no user
/// extended attributes (the caller then writes a sidecar).
fn set_metadata_xattr(file: &File, json: &[u8]) -> io::Result<bool> {
    match file.set_xattr(META_XATTR, json) {
        Ok(()) => Ok(true),
        Err(err) if err.raw_os_error() == Some(EOPNOTSUPP) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Keeps the metadata worked out for a file copied in by other means in its extended
/// attribute, so the folder watcher's next look (every second) does not hash the whole file
/// again. Only a cache: where it cannot be written (a read-only file, a file system without
/// extended attributes) the file is hashed each time. Set through a handle on the very file
/// `stored` describes, so an object published over it meanwhile keeps its own metadata.
fn remember_metadata(path: &Path, stored: &StoredMetadata) {
    let Ok(file) = File::open(path) else { return };
    if file.metadata().is_ok_and(|now| stored.describes(&now)) {
        let json = serde_json::to_vec(stored).expect("metadata serializes");
        let _cache_only = set_metadata_xattr(&file, &json);
    }
}

/// The metadata stored for the object at `path`, from its extended attribute or else its
/// sidecar; missing or unreadable metadata only means "guess".
fn read_stored(path: &Path, sidecar: &Path) -> Option<StoredMetadata> {
    let json = match xattr::get(path, META_XATTR) {
        Ok(Some(json)) => json,
        _ => fs::read(sidecar).ok()?,
    };
    serde_json::from_slice(&json).ok()
}

fn mtime_ns(metadata: &Metadata) -> i128 {
    i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec())
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut hash = blake3::Hasher::new();
    hash.update_reader(File::open(path)?)?;
    Ok(hash.finalize().to_hex()[..ETAG_HEX].to_owned())
}

/// For objects written without a content type: what S3 would have been told by a browser.
fn guess_content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "tif" | "tiff" => "image/tiff",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn object_label(path: &Path) -> String {
    format!("{}", path.display())
}

/// A write that meets no folder (a file is in the way of a key's "folder", or the bucket
/// folder vanished) will not succeed on a retry either.
fn write_error(what: &str, err: io::Error) -> PortError {
    let message = format!("{what}: {err}");
    match port_error(what, err) {
        PortError::NotFound => PortError::Permanent(message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rebuildable_buckets_skip_the_flush() {
        let storage = FolderStorage::new([("input", "in"), ("output", "out"), ("logs", "logs")])
            .rebuildable(["output"]);
        assert_eq!(storage.sync_for("input"), Sync::Flush);
        assert_eq!(storage.sync_for("logs"), Sync::Flush);
        assert_eq!(storage.sync_for("output"), Sync::Skip);
    }
}
