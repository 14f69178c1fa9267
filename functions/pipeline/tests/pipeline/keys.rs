use crate::support::upload;
use photopipe_engine::OutputFormat;
use photopipe_pipeline::keys::{
    failure_record_key, fingerprint, is_url_safe, is_valid_execution_name, object_name, rerun_name,
    thumbnail_key, MAX_EXECUTION_NAME, MAX_RERUN_TAG,
};

#[test]
fn thumbnail_keys_are_safe_url_paths_whatever_the_original_key() {
    for key in [
        "a/../b?x#y.png",
        "../../etc/passwd",
        "<img src=x onerror=alert(1)>.jpg",
        "100% real & \"quoted\".jpg",
        "写真/夏.jpg",
        "a/",
        "/",
        ".",
    ] {
        let thumbnail = thumbnail_key(&upload(key, 1), OutputFormat::Jpeg);
        assert!(thumbnail.starts_with("thumbnails/"), "{thumbnail}");
        assert!(thumbnail.ends_with(".jpg"), "{thumbnail}");
        assert_eq!(thumbnail.matches('/').count(), 1, "{thumbnail}");
        assert!(is_url_safe(&thumbnail), "{key:?} → {thumbnail:?}");
    }
    assert_eq!(
        thumbnail_key(&upload("a/../b?x#y.png", 1), OutputFormat::Webp),
        format!(
            "thumbnails/b_x_y.png-{}.webp",
            &fingerprint(&upload("a/../b?x#y.png", 1))[..16]
        )
    );
}

#[test]
fn the_thumbnail_is_named_like_the_execution() {
    let photo = upload("holiday/IMG 0001.jpg", 1);
    assert_eq!(
        thumbnail_key(&photo, OutputFormat::Jpeg),
        format!("thumbnails/{}.jpg", object_name(&photo))
    );
}

#[test]
fn fingerprints_are_sha256_hex_and_unambiguous() {
    let a = fingerprint(&upload("bc", 1));
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut shifted = upload("c", 1);
    shifted.bucket.push('b');
    assert_ne!(a, fingerprint(&shifted), "bucket/key boundaries matter");
    // Pinned (computed independently): names must not change between builds, or a
    // duplicate notification after a deploy would start a second execution.
    let photo = upload("holiday/IMG 0001.jpg", 1);
    assert_eq!(
        fingerprint(&photo),
        "2b99bdd4b3c306e6a574685d39cdb767c71d78078a9a41d9294d9a64e09e0cd4"
    );
    assert_eq!(object_name(&photo), "IMG_0001.jpg-2b99bdd4b3c306e6");
}

#[test]
fn url_safety_refuses_traversal_and_reserved_characters() {
    assert!(is_url_safe("thumbnails/a-b_c.d~e.jpg"));
    for unsafe_key in [
        "a/../b", "./a", "a//b", "/a", "a?b", "a#b", "a b", "a%20b", "é",
    ] {
        assert!(!is_url_safe(unsafe_key), "{unsafe_key}");
    }
}

#[test]
fn failure_records_are_filed_by_date_and_execution() {
    assert_eq!(
        failure_record_key("2024-05-01", "x-0123"),
        "failures/2024-05-01/x-0123.json"
    );
}

#[test]
fn a_rerun_has_its_own_valid_name_that_still_shows_the_object() {
    let photo = upload("holiday/IMG 0001.jpg", 1);
    assert_eq!(
        rerun_name(&photo, "r20261128T101500.123Z"),
        format!("{}-r20261128T101500.123Z", object_name(&photo))
    );
    let long = upload(&format!("{}.jpg", "x".repeat(300)), 1);
    let tag = "t".repeat(MAX_RERUN_TAG);
    let name = rerun_name(&long, &tag);
    assert_eq!(name.len(), MAX_EXECUTION_NAME, "{name}");
    assert!(is_valid_execution_name(&name), "{name}");
    let hash = &fingerprint(&long)[..16];
    assert!(name.ends_with(&format!("-{hash}-{tag}")), "{name}");
    assert_ne!(rerun_name(&long, "r1"), object_name(&long));
}
