//! FolderStorage against a real folder: the key ↔ path mapping, atomic and create-only
//! writes, limits, metadata, listings.

mod common;

use common::TempDir;
use photopipe_local::storage::{decode_path, encode_key};
use photopipe_local::FolderStorage;
use photopipe_pipeline::ports::{NewObject, PortError, Storage};
use std::collections::HashSet;
use std::path::{Component, Path};
use std::time::{Duration, SystemTime};

fn storage(dir: &TempDir) -> FolderStorage {
    FolderStorage::new([
        ("input", dir.path().join("input")),
        ("output", dir.path().join("output")),
    ])
}

fn object(bytes: &[u8]) -> NewObject<'_> {
    NewObject {
        bytes,
        content_type: "image/jpeg",
        cache_control: Some("public, max-age=31536000, immutable"),
    }
}

const NASTY_KEYS: &[&str] = &[
    "green meadow.jpg",
    "../../etc/passwd",
    "..",
    ".",
    "",
    "/",
    "a//b",
    "a/",
    "/absolute",
    "a/./b",
    "a/../b",
    "...",
    ".hidden",
    ".photopipe-meta",
    "back\\slash\\..\\x",
    "nul\0byte",
    "line\nbreak\r",
    "100%.jpg",
    "%41",
    "%",
    "%2E",
    "A",
    "ünïcødé 📷.jpg",
    "<img src=x onerror=alert(1)>.jpg",
    "quote'\"; DROP TABLE x; --",
    "\u{7f}\u{85}",
];

#[test]
fn every_key_maps_inside_its_bucket_and_back() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    let bucket = storage.bucket_dir("input").unwrap().to_owned();
    let mut paths = HashSet::new();
    for key in NASTY_KEYS {
        let path = storage.path_for_key("input", key).unwrap();
        let relative = path.strip_prefix(&bucket).unwrap();
        assert!(
            relative
                .components()
                .all(|c| matches!(c, Component::Normal(name) if !name.as_encoded_bytes().starts_with(b"."))),
            "{key:?} → {relative:?}"
        );
        assert!(!relative.as_os_str().as_encoded_bytes().contains(&0));
        assert!(!relative.to_str().unwrap().contains('\\'));
        assert_eq!(
            storage.key_for_path("input", &path).as_deref(),
            Some(*key),
            "{key:?} → {relative:?}"
        );
        assert!(paths.insert(path), "{key:?} collides");
    }
}

#[test]
fn ordinary_names_stay_readable() {
    assert_eq!(
        encode_key("green meadow.jpg"),
        Path::new("green meadow.jpg")
    );
    assert_eq!(
        encode_key("thumbnails/a-1.jpg"),
        Path::new("thumbnails/a-1.jpg")
    );
    assert_eq!(encode_key("ünïcødé 📷.jpg"), Path::new("ünïcødé 📷.jpg"));
    assert_eq!(encode_key(".."), Path::new("%2E."));
    assert_eq!(encode_key("a/../b"), Path::new("a/%2E./b"));
    assert_eq!(encode_key("100%.jpg"), Path::new("100%25.jpg"));
    assert_eq!(encode_key("a\\b\0"), Path::new("a%5Cb%00"));
    assert_eq!(encode_key("a//b/"), Path::new("a/%/b/%"));
}

#[test]
fn only_encodings_of_keys_are_keys() {
    for name in [
        ".photopipe-meta/0a.json",
        ".photopipe-tmp-1-2",
        ".DS_Store",
        "dir/.swp",
        "100%.jpg",
        "%41",
        "%2e.",
        "%zz",
        "%E2%82",
        "a/../b",
        "/abs",
        "",
    ] {
        assert_eq!(decode_path(Path::new(name)), None, "{name:?}");
    }
    let dir = TempDir::new();
    let storage = storage(&dir);
    assert_eq!(
        storage.key_for_path("input", Path::new("/etc/passwd")),
        None
    );
    let in_output = storage.path_for_key("output", "x.jpg").unwrap();
    assert_eq!(storage.key_for_path("input", &in_output), None);
    assert_eq!(storage.key_for_path("nope", &in_output), None);
}

#[tokio::test]
async fn put_then_read_back() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    let bytes = b"\xff\xd8\xff\xe0 not really a jpeg";
    storage
        .put("input", "photos/green meadow.jpg", object(bytes))
        .await
        .unwrap();
    let on_disk = dir.path().join("input/photos/green meadow.jpg");
    assert_eq!(std::fs::read(&on_disk).unwrap(), bytes);

    let head = storage
        .head("input", "photos/green meadow.jpg")
        .await
        .unwrap();
    assert_eq!(head.size, bytes.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("image/jpeg"));
    let etag = head.etag.unwrap();
    assert_eq!(etag.len(), 32);
    let info = storage
        .describe("input", "photos/green meadow.jpg")
        .await
        .unwrap();
    assert_eq!(
        info.cache_control.as_deref(),
        Some("public, max-age=31536000, immutable")
    );

    let whole = storage
        .get("input", "photos/green meadow.jpg", bytes.len() as u64)
        .await
        .unwrap();
    assert_eq!(whole, bytes);
    assert_eq!(
        storage.get("input", "photos/green meadow.jpg", 3).await,
        Err(PortError::OverLimit {
            size: bytes.len() as u64,
            max_bytes: 3
        })
    );
    let range = storage
        .get_range("input", "photos/green meadow.jpg", 4)
        .await
        .unwrap();
    assert_eq!(range, &bytes[..4]);
    let all = storage
        .get_range("input", "photos/green meadow.jpg", 1 << 20)
        .await
        .unwrap();
    assert_eq!(all, bytes);

    // No temporary file is left beside the object, and its metadata is on the file itself
    // (an extended attribute): no sidecar where files have them.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("input/photos"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["green meadow.jpg"]);
    assert!(!dir.path().join("input/.photopipe-meta").exists());
}

/// Unmounts on drop.
struct Mount<'a>(&'a Path);

impl Drop for Mount<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

#[tokio::test]
async fn metadata_goes_to_a_sidecar_where_files_have_no_extended_attributes() {
    // ramfs keeps no user extended attributes; mounting one needs root (as CI runs here).
    let dir = TempDir::new();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "ramfs", "photopipe-test"])
        .arg(dir.path())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a ramfs here (needs root)");
        return;
    }
    let _unmount = Mount(dir.path());
    let storage = storage(&dir);
    storage
        .put("input", "photos/a.jpg", object(b"\xff\xd8 jpeg"))
        .await
        .unwrap();
    let info = storage.describe("input", "photos/a.jpg").await.unwrap();
    let original_etag = info.head.etag;
    assert_eq!(info.head.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        info.cache_control.as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let sidecars: Vec<_> = std::fs::read_dir(dir.path().join("input/.photopipe-meta"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(sidecars.len(), 1);
    assert!(
        sidecars[0].contains(r#""key":"photos/a.jpg""#),
        "{}",
        sidecars[0]
    );
    assert_eq!(storage.list("input", "").await.unwrap(), ["photos/a.jpg"]);

    // Replaced by another file of the same size: the sidecar no longer describes it.
    let replacement = dir.path().join("input/photos/.replacement");
    std::fs::write(&replacement, b"\x89P jpeg").unwrap();
    std::fs::rename(&replacement, dir.path().join("input/photos/a.jpg")).unwrap();
    let info = storage.describe("input", "photos/a.jpg").await.unwrap();
    assert_eq!(info.cache_control, None);
    assert_ne!(info.head.etag, original_etag);
}

#[test]
fn files_are_settled_once_left_alone() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    let quiet = Duration::from_secs(2);
    std::fs::create_dir_all(dir.path().join("input")).unwrap();
    let path = dir.path().join("input/copying.jpg");
    std::fs::write(&path, b"half a photo").unwrap();
    assert!(!storage.is_settled("input", "copying.jpg", quiet));

    let file = std::fs::File::options().write(true).open(&path).unwrap();
    let now = SystemTime::now();
    file.set_modified(now - Duration::from_secs(3)).unwrap();
    assert!(storage.is_settled("input", "copying.jpg", quiet));
    // A time in the future was set on purpose, after the copy (`cp -p`, a camera's clock).
    file.set_modified(now + Duration::from_secs(3600)).unwrap();
    assert!(storage.is_settled("input", "copying.jpg", quiet));
    // Gone: nothing to wait for (processing it reports that it is missing).
    assert!(storage.is_settled("input", "never.jpg", quiet));
}

#[tokio::test]
async fn etags_follow_the_content() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    storage.put("input", "a.jpg", object(b"one")).await.unwrap();
    storage.put("input", "b.jpg", object(b"one")).await.unwrap();
    let etag = |key| {
        let storage = storage.clone();
        async move { storage.head("input", key).await.unwrap().etag.unwrap() }
    };
    assert_eq!(etag("a.jpg").await, etag("b.jpg").await);
    storage.put("input", "a.jpg", object(b"two")).await.unwrap();
    assert_ne!(etag("a.jpg").await, etag("b.jpg").await);

    // A file that arrived by other means: hashed from its content, type from its name.
    std::fs::write(dir.path().join("input/dropped.png"), b"one").unwrap();
    let head = storage.head("input", "dropped.png").await.unwrap();
    assert_eq!(head.etag.unwrap(), etag("b.jpg").await);
    assert_eq!(head.content_type.as_deref(), Some("image/png"));
    // Remembered on the file, so the next look does not hash it again…
    let dropped = dir.path().join("input/dropped.png");
    let remembered = xattr::get(&dropped, "user.photopipe.meta")
        .unwrap()
        .unwrap();
    let remembered = String::from_utf8(remembered).unwrap();
    assert!(
        remembered.contains(&format!(r#""etag":"{}""#, etag("b.jpg").await)),
        "{remembered}"
    );
    // …and not believed once the file changes.
    std::fs::write(&dropped, b"seven").unwrap();
    storage
        .put("input", "c.jpg", object(b"seven"))
        .await
        .unwrap();
    assert_eq!(etag("dropped.png").await, etag("c.jpg").await);

    // Changed in place behind the adapter's back: the stale metadata is not believed.
    std::fs::write(dir.path().join("input/b.jpg"), b"three").unwrap();
    let head = storage.head("input", "b.jpg").await.unwrap();
    assert_eq!(head.size, 5);
    assert_ne!(head.etag.unwrap(), etag("dropped.png").await);
}

#[tokio::test]
async fn put_if_absent_has_exactly_one_winner() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    let tasks: Vec<_> = (0..16u8)
        .map(|n| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let bytes = [n; 64];
                let created = storage
                    .put_if_absent("input", "slots/0", object(&bytes))
                    .await
                    .unwrap();
                (n, created)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (n, created) = task.await.unwrap();
        if created {
            winners.push(n);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = storage.get("input", "slots/0", 64).await.unwrap();
    assert_eq!(stored, [winners[0]; 64]);
    assert!(!storage
        .put_if_absent("input", "slots/0", object(b"late"))
        .await
        .unwrap());
    let names: Vec<_> = std::fs::read_dir(dir.path().join("input/slots"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["0"]);
}

#[tokio::test]
async fn list_finds_keys_by_prefix_and_hides_the_machinery() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    // A key cannot be both an object and a "folder" of other keys: store those that are not.
    let stored: Vec<&str> = NASTY_KEYS
        .iter()
        .copied()
        .filter(|key| {
            NASTY_KEYS
                .iter()
                .all(|other| other == key || !encode_key(other).starts_with(encode_key(key)))
        })
        .collect();
    assert!(stored.len() > NASTY_KEYS.len() / 2);
    for key in &stored {
        storage.put("input", key, object(b"x")).await.unwrap();
    }
    storage
        .put("input", "alerts/window/1/0", object(b"x"))
        .await
        .unwrap();
    storage
        .put("input", "alerts/window/1/1", object(b"x"))
        .await
        .unwrap();
    storage
        .put("input", "alerts/window/2/0", object(b"x"))
        .await
        .unwrap();
    std::fs::write(dir.path().join("input/.DS_Store"), b"junk").unwrap();

    let mut window = storage.list("input", "alerts/window/1/").await.unwrap();
    window.sort();
    assert_eq!(window, ["alerts/window/1/0", "alerts/window/1/1"]);
    let mut partial = storage.list("input", "alerts/win").await.unwrap();
    partial.sort();
    assert_eq!(partial.len(), 3);

    let mut all = storage.list("input", "").await.unwrap();
    all.sort();
    let mut expected = stored;
    expected.extend([
        "alerts/window/1/0",
        "alerts/window/1/1",
        "alerts/window/2/0",
    ]);
    expected.sort();
    assert_eq!(all, expected);
    assert!(storage.list("input", "nothing/").await.unwrap().is_empty());
    assert!(storage.list("output", "").await.unwrap().is_empty());
}

#[tokio::test]
async fn errors_are_classified() {
    let dir = TempDir::new();
    let storage = storage(&dir);
    assert_eq!(
        storage.head("input", "missing.jpg").await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        storage.get("input", "missing.jpg", 10).await,
        Err(PortError::NotFound)
    );
    assert!(matches!(
        storage.get("logs", "x", 10).await,
        Err(PortError::Permanent(_))
    ));
    storage.put("input", "a/b.jpg", object(b"x")).await.unwrap();
    // A "folder" is not an object.
    assert_eq!(storage.head("input", "a").await, Err(PortError::NotFound));
    assert_eq!(
        storage.get_range("input", "a", 1).await,
        Err(PortError::NotFound)
    );
    // A file in the way of a "folder" will not go away on a retry.
    assert!(matches!(
        storage.put("input", "a/b.jpg/c", object(b"x")).await,
        Err(PortError::Permanent(_))
    ));
    let long = "x".repeat(300);
    assert!(matches!(
        storage.put("input", &long, object(b"x")).await,
        Err(PortError::Permanent(_))
    ));
}
