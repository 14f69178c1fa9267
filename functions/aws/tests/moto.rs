//! The S3, Step Functions and SNS adapters against a real moto server on loopback: the same
//! SDK calls, HTTP client and error classification the Lambdas use, with moto answering in
//! AWS's place. `tests/moto.sh` starts moto and runs these; CI has no AWS account.
//!
//! The server's URL comes from `PHOTOPIPE_MOTO_URL` (or `AWS_ENDPOINT_URL`). Without one the
//! tests fail, saying how to start moto — unless `PHOTOPIPE_SKIP_MOTO=1`, which skips them
//! with a note.
//!
//! What moto cannot show: it accepts any credentials and signature, so IAM is not exercised,
//! and it answers too fast to produce throttling (the classification of those answers has
//! its unit tests in `classify.rs`).

use aws_config::SdkConfig;
use aws_sdk_s3::config::{Credentials, Region};
use photopipe_aws::{sdk, S3Storage, SfnStarter, SnsAlerts, Started};
use photopipe_pipeline::ports::NewObject;
use photopipe_pipeline::trigger::ExecutionStart;
use photopipe_pipeline::{Alert, Alerts, PortError, Storage, Upload};
use std::io::{Read, Write};
use std::net::TcpStream;

/// The moto server's URL, `None` (after a note) when the tests are to be skipped.
fn moto_url() -> Option<String> {
    let url = ["PHOTOPIPE_MOTO_URL", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    if url.is_none() {
        if std::env::var("PHOTOPIPE_SKIP_MOTO").as_deref() == Ok("1") {
            eprintln!("note: PHOTOPIPE_SKIP_MOTO=1 and no moto server: the moto tests are skipped");
        } else {
            panic!(
                "no moto server: set PHOTOPIPE_MOTO_URL (run `bash functions/aws/tests/moto.sh`, \
                 which starts one), or PHOTOPIPE_SKIP_MOTO=1 to skip these tests"
            );
        }
    }
    url
}

/// The Lambdas' SDK configuration, pointed at moto with its dummy credentials.
async fn moto_config(url: &str) -> SdkConfig {
    sdk::loader()
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// Names unique to this test run, so reruns against the same server do not collide.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// A new empty bucket in moto, named after `name`.
async fn new_bucket(config: &SdkConfig, name: &str) -> String {
    let bucket = unique(name);
    aws_sdk_s3::Client::new(config)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    bucket
}

fn object<'a>(bytes: &'a [u8], content_type: &'a str) -> NewObject<'a> {
    NewObject {
        bytes,
        content_type,
        cache_control: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_storage() {
    let Some(url) = moto_url() else { return };
    let config = moto_config(&url).await;
    let storage = S3Storage::new(&config);
    let bucket = new_bucket(&config, "photopipe-s3").await;

    // A key with a space, a plus and non-ASCII, as uploads have.
    let key = "2024/05/my cat+1 é.jpg";
    let photo: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    storage
        .put(
            &bucket,
            key,
            NewObject {
                bytes: &photo,
                content_type: "image/jpeg",
                cache_control: Some("public, max-age=31536000, immutable"),
            },
        )
        .await
        .unwrap();
    let stored = aws_sdk_s3::Client::new(&config)
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.content_type(), Some("image/jpeg"));
    assert_eq!(
        stored.cache_control(),
        Some("public, max-age=31536000, immutable")
    );

    let head = storage.head(&bucket, key).await.unwrap();
    assert_eq!(head.size, 10_000);
    assert_eq!(head.content_type.as_deref(), Some("image/jpeg"));
    let etag = head.etag.expect("an etag");
    assert!(!etag.contains('"') && !etag.is_empty(), "{etag}");

    assert_eq!(storage.get(&bucket, key, 10_000).await.unwrap(), photo);
    assert_eq!(
        storage.get(&bucket, key, 9_999).await,
        Err(PortError::OverLimit {
            size: 10_000,
            max_bytes: 9_999
        })
    );
    // Ranged GETs: the head of the file, or all of a shorter one.
    assert_eq!(
        storage.get_range(&bucket, key, 16).await.unwrap(),
        photo[..16]
    );
    assert_eq!(
        storage.get_range(&bucket, key, 1 << 20).await.unwrap(),
        photo
    );

    // An empty object: HEAD says 0, a ranged GET returns nothing (S3 answers 416).
    storage
        .put(&bucket, "empty.jpg", object(b"", "image/jpeg"))
        .await
        .unwrap();
    assert_eq!(storage.head(&bucket, "empty.jpg").await.unwrap().size, 0);
    assert!(storage
        .get_range(&bucket, "empty.jpg", 16)
        .await
        .unwrap()
        .is_empty());

    // Missing objects are NotFound; a missing bucket is a setup error.
    assert_eq!(
        storage.head(&bucket, "gone.jpg").await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        storage.get(&bucket, "gone.jpg", 10).await,
        Err(PortError::NotFound)
    );
    assert_eq!(
        storage.get_range(&bucket, "gone.jpg", 10).await,
        Err(PortError::NotFound)
    );
    let missing = unique("photopipe-missing");
    assert!(matches!(
        storage.head(&missing, key).await,
        Err(PortError::Permanent(_)) | Err(PortError::NotFound)
    ));
    assert!(matches!(
        storage.list(&missing, "").await,
        Err(PortError::Permanent(m)) if m.contains("NoSuchBucket")
    ));
    assert!(matches!(
        storage.put(&missing, key, object(b"x", "text/plain")).await,
        Err(PortError::Permanent(m)) if m.contains("NoSuchBucket")
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_put_if_absent_writes_once() {
    let Some(url) = moto_url() else { return };
    let config = moto_config(&url).await;
    let storage = S3Storage::new(&config);
    let bucket = new_bucket(&config, "photopipe-slots").await;
    let slot = "alerts/window/1714557600/1";
    assert!(storage
        .put_if_absent(&bucket, slot, object(b"first", "application/json"))
        .await
        .unwrap());
    assert!(!storage
        .put_if_absent(&bucket, slot, object(b"second", "application/json"))
        .await
        .unwrap());
    // The loser changed nothing.
    assert_eq!(storage.get(&bucket, slot, 100).await.unwrap(), b"first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_list_follows_pagination() {
    let Some(url) = moto_url() else { return };
    let config = moto_config(&url).await;
    let storage = S3Storage::new(&config);
    let bucket = new_bucket(&config, "photopipe-list").await;
    // ListObjectsV2 returns at most 1000 keys a page: 1005 need two.
    let mut expected: Vec<String> = (0..1005).map(|i| format!("failures/{i:04}.json")).collect();
    let others = ["alerts/1.json", "failures.json", "gallery.json"];
    let mut writes = tokio::task::JoinSet::new();
    for key in expected.iter().cloned().chain(others.map(String::from)) {
        let (storage, bucket) = (storage.clone(), bucket.clone());
        writes.spawn(async move {
            storage
                .put(&bucket, &key, object(b"{}", "application/json"))
                .await
        });
    }
    while let Some(written) = writes.join_next().await {
        written.unwrap().unwrap();
    }
    let mut listed = storage.list(&bucket, "failures/").await.unwrap();
    listed.sort();
    expected.sort();
    assert_eq!(listed.len(), 1005);
    assert_eq!(listed, expected);
    assert!(storage.list(&bucket, "nothing/").await.unwrap().is_empty());
}

#[tokio::test]
async fn sfn_starts_each_execution_name_once() {
    let Some(url) = moto_url() else { return };
    let config = moto_config(&url).await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let machine = sfn
        .create_state_machine()
        .name(unique("photopipe-pipeline"))
        .definition(r#"{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/photopipe-pipeline")
        .send()
        .await
        .unwrap();
    let starter = SfnStarter::new(&config, machine.state_machine_arn());
    let upload: Upload = serde_json::from_value(serde_json::json!({
        "bucket": "alice-image-bucket-input", "key": "2024/my cat.jpg", "size": 1024,
        "etag": "d41d8cd98f00b204e9800998ecf8427e", "version_id": null,
        "event_time": "2024-05-01T10:00:00.123Z"
    }))
    .unwrap();
    let execution = ExecutionStart {
        name: unique("upload-my-cat"),
        input: upload,
    };
    let Started::New { execution_arn } = starter.start(&execution).await.unwrap() else {
        panic!("the first start creates the execution");
    };
    let described = sfn
        .describe_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.name(), Some(execution.name.as_str()));
    let input: serde_json::Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(input["key"], "2024/my cat.jpg");

    // A duplicate S3 notification while the execution runs: Step Functions (and moto)
    // answer with the running execution.
    assert_eq!(
        starter.start(&execution).await.unwrap(),
        Started::New {
            execution_arn: execution_arn.clone()
        }
    );
    // Once it has ended, the name is taken: ExecutionAlreadyExists, which is no error.
    sfn.stop_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        starter.start(&execution).await.unwrap(),
        Started::AlreadyExists
    );
    let executions = sfn
        .list_executions()
        .state_machine_arn(machine.state_machine_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(executions.executions().len(), 1);

    // A state machine that does not exist is a setup error, not worth a retry.
    let nowhere = SfnStarter::new(
        &config,
        "arn:aws:states:us-east-1:123456789012:stateMachine:missing",
    );
    assert!(matches!(
        nowhere.start(&execution).await,
        Err(PortError::Permanent(m)) if m.contains("StateMachineDoesNotExist")
    ));
}

#[tokio::test]
async fn sns_publishes_the_alert() {
    let Some(url) = moto_url() else { return };
    let config = moto_config(&url).await;
    let topic = aws_sdk_sns::Client::new(&config)
        .create_topic()
        .name(unique("photopipe-alerts"))
        .send()
        .await
        .unwrap();
    let topic_arn = topic.topic_arn().unwrap();
    let alerts = SnsAlerts::new(&config, topic_arn);
    let alert = Alert {
        subject: "photopipe: 2024/my cat.jpg failed (PhotoPipe.CorruptImage)".into(),
        body: "The upload could not be processed.\nError: PhotoPipe.CorruptImage\n".into(),
    };
    alerts.send(&alert).await.unwrap();

    let published = published_messages(&url, topic_arn);
    assert_eq!(published, vec![(alert.subject.clone(), alert.body.clone())]);

    let missing = SnsAlerts::new(&config, format!("{topic_arn}-missing"));
    assert!(matches!(
        missing.send(&alert).await,
        Err(PortError::Permanent(m)) if m.contains("NotFound")
    ));
}

/// (subject, message) of every message published to `topic_arn`, from moto's SNS
/// inspection endpoint.
fn published_messages(url: &str, topic_arn: &str) -> Vec<(String, String)> {
    let body = http_get(url, "/moto-api/data.json");
    let data: serde_json::Value = serde_json::from_str(&body).unwrap();
    let topics = data["sns"]["Topic"].as_array().expect("moto's SNS topics");
    let topic = topics
        .iter()
        .find(|topic| topic["arn"] == topic_arn)
        .expect("the topic in moto's data");
    // Each notification is [message_id, message, subject, attributes, group_id].
    let notifications = topic["sent_notifications"].as_array().unwrap();
    notifications
        .iter()
        .map(|n| {
            (
                n[2].as_str().unwrap().to_owned(),
                n[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A GET over plain HTTP/1.0 on loopback: enough for moto's inspection API, no client crate.
fn http_get(url: &str, path: &str) -> String {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    body.to_owned()
}
