use photopipe_pipeline::keys::is_valid_execution_name;
use photopipe_pipeline::trigger::{decide, decode_key, Decision, ObjectEvent, TriggerConfig};
use photopipe_pipeline::ErrorType;
use time::macros::datetime;

fn record(event_name: &str, key: &str, etag: &str, version: Option<&str>) -> ObjectEvent {
    ObjectEvent {
        event_name: event_name.into(),
        event_time: datetime!(2024-05-01 12:34:56.789 UTC),
        bucket: "photos-in".into(),
        key: key.into(),
        size: Some(1234),
        etag: Some(etag.into()),
        version_id: version.map(Into::into),
    }
}

fn decide_one(record: ObjectEvent) -> Decision {
    decide(&record, &TriggerConfig::default()).unwrap()
}

fn start(key: &str, etag: &str, version: Option<&str>) -> (String, photopipe_pipeline::Upload) {
    match decide_one(record("ObjectCreated:Put", key, etag, version)) {
        Decision::Start(start) => (start.name, start.input),
        other => panic!("expected a start, got {other:?}"),
    }
}

#[test]
fn a_created_object_becomes_the_execution_input() {
    let (name, upload) = start("holiday/IMG+0001.jpg", "abc123", None);
    assert_eq!(upload.bucket, "photos-in");
    assert_eq!(upload.key, "holiday/IMG 0001.jpg");
    assert_eq!(upload.size, 1234);
    assert_eq!(upload.etag, "abc123");
    assert_eq!(upload.version_id, None);
    assert_eq!(upload.event_time, datetime!(2024-05-01 12:34:56.789 UTC));
    let json = serde_json::to_value(&upload).unwrap();
    assert_eq!(json["event_time"], "2024-05-01T12:34:56.789Z");
    assert_eq!(json["version_id"], serde_json::Value::Null);
    assert!(name.starts_with("IMG_0001.jpg-"), "{name}");
    assert_eq!(name.len(), "IMG_0001.jpg-".len() + 16);
}

#[test]
fn keys_are_decoded_plus_as_space_then_percent_sequences() {
    let cases = [
        ("a+b.jpg", "a b.jpg"),
        ("a%2Bb.jpg", "a+b.jpg"),
        ("a%2bb.jpg", "a+b.jpg"),
        ("my%20photo+%281%29.jpg", "my photo (1).jpg"),
        ("caf%C3%A9/%E5%86%99%E7%9C%9F.jpg", "café/写真.jpg"),
        ("100%25.jpg", "100%.jpg"),
        ("50%+off.jpg", "50% off.jpg"),
        ("a%2Fb%3Fc%23d.png", "a/b?c#d.png"),
        ("plain.jpg", "plain.jpg"),
    ];
    for (encoded, decoded) in cases {
        assert_eq!(decode_key(encoded).unwrap(), decoded, "decoding {encoded}");
    }
}

#[test]
fn a_key_that_is_not_utf8_is_invalid_input() {
    let error = decode_key("bad%FF%FE.jpg").unwrap_err();
    assert_eq!(error.error_type, ErrorType::InvalidInput);
    assert!(error.message.contains("bad%FF%FE.jpg"), "{}", error.message);
}

#[test]
fn only_created_objects_outside_ignored_prefixes_start_executions() {
    assert_eq!(
        decide_one(record("ObjectRemoved:Delete", "a.jpg", "e", None)),
        Decision::Ignore("not an ObjectCreated event")
    );
    assert!(matches!(
        decide_one(record("ObjectCreated:Put", "folder/", "e", None)),
        Decision::Ignore(_)
    ));
    let config = TriggerConfig {
        ignored_prefixes: vec!["thumbnails/".into()],
    };
    assert!(matches!(
        decide(
            &record("ObjectCreated:Put", "thumbnails/x.jpg", "e", None),
            &config
        )
        .unwrap(),
        Decision::Ignore(_)
    ));
    assert!(matches!(
        decide(
            &record(
                "ObjectCreated:CompleteMultipartUpload",
                "thumbnails+x.jpg",
                "e",
                None
            ),
            &config
        )
        .unwrap(),
        Decision::Start(_)
    ));
}

#[test]
fn a_created_object_without_size_or_etag_is_invalid_input() {
    for (size, etag) in [(None, Some("e")), (Some(1), None), (Some(1), Some("\"\""))] {
        let event = ObjectEvent {
            size,
            etag: etag.map(Into::into),
            ..record("ObjectCreated:Put", "a.jpg", "e", None)
        };
        let error = decide(&event, &TriggerConfig::default()).unwrap_err();
        assert_eq!(error.error_type, ErrorType::InvalidInput);
        assert!(error.message.contains("\"a.jpg\""), "{}", error.message);
    }
    // S3 sends neither for a deleted object: such records are ignored, not refused.
    let removed = ObjectEvent {
        size: None,
        etag: None,
        ..record("ObjectRemoved:Delete", "a.jpg", "e", None)
    };
    assert!(matches!(
        decide(&removed, &TriggerConfig::default()).unwrap(),
        Decision::Ignore(_)
    ));
}

#[test]
fn execution_names_are_stable_and_distinct_per_object_version() {
    let (first, _) = start("a/IMG.jpg", "etag1", None);
    let (again, _) = start("a/IMG.jpg", "etag1", None);
    assert_eq!(first, again, "a duplicate notification gives the same name");
    let names = [
        first.clone(),
        start("a/IMG.jpg", "etag2", None).0,
        start("b/IMG.jpg", "etag1", None).0,
        start("a/IMG.jpg", "etag1", Some("v2")).0,
        start("a/IMG.jpg", "etag9", Some("v2")).0,
    ];
    // The version id, when there is one, identifies the object: the etag is then ignored.
    assert_eq!(names[3], names[4]);
    let distinct: std::collections::BTreeSet<_> = names[..4].iter().collect();
    assert_eq!(distinct.len(), 4, "{names:?}");
    // Quoted etags (as HTTP headers carry them) name the same object.
    assert_eq!(start("a/IMG.jpg", "\"etag1\"", None).0, first);
}

#[test]
fn execution_names_follow_the_step_functions_rules() {
    let long = format!("{}.jpg", "x".repeat(500));
    let hostile = [
        long.as_str(),
        "a b<c>{d}[e]?f*g\"h#i%j\\k^l|m~n`o$p&q,r;s:t.jpg",
        "tab\tnew\nline\u{7f}\u{85}.jpg",
        "写真.jpg",
        "..",
        ".hidden",
        "%00",
    ];
    for key in hostile {
        let encoded: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        let (name, upload) = start(&encoded, "e", None);
        assert_eq!(upload.key, key);
        assert!(name.len() <= 80, "{name} is {} long", name.len());
        assert!(is_valid_execution_name(&name), "{name:?}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{name:?}"
        );
        assert!(!name.starts_with('.'), "{name:?}");
    }
    assert_eq!(start("x/..", "e", None).0[..7], *"upload-");
    assert!(start("写真.jpg", "e", None).0.starts_with("_.jpg-"));
    assert!(start(&"y".repeat(200), "e", None)
        .0
        .starts_with(&"y".repeat(63)));
}

#[test]
fn the_step_functions_name_rules_are_checked() {
    assert!(is_valid_execution_name("IMG_0001.jpg-0123456789abcdef"));
    for bad in ["", "a b", "a/b", "a:b", "a#b", "a\nb", &"x".repeat(81)] {
        assert!(!is_valid_execution_name(bad), "{bad:?}");
    }
    assert!(is_valid_execution_name(&"x".repeat(80)));
}
