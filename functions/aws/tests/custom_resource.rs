//! The `Custom::CatalogSchema` custom resource (`photopipe_aws::custom_resource`) end to
//! end on loopback: requests as CloudFormation sends them, the migrations through the
//! Data API stand-in on the real MariaDB (see `tests/data_api.rs` for what the stand-in is
//! and is not), and the response PUT received by an HTTP server on a real socket, in the
//! place of the pre-signed S3 URL. What it cannot show: CloudFormation itself and S3's
//! signature check of the PUT (the test asserts the request carries no content type,
//! which that signature does not cover).
//!
//! Needs `PHOTOPIPE_DATA_API_URL` (`bash functions/aws/tests/moto.sh` exports it), like
//! `tests/data_api.rs`. One test function: the stand-in's switches are global.

mod support;

use photopipe_aws::custom_resource::{self, Responder, Retry};
use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::Catalog;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};
use support::data_api_catalog;
use support::standin::{standin_url, switch, Database};

/// A request the response server received.
#[derive(Debug)]
struct Received {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// Plays the pre-signed S3 URL: answers every request with `status` and hands it over.
struct ResponseServer {
    base: String,
    status: Arc<AtomicU16>,
    received: mpsc::Receiver<Received>,
}

impl ResponseServer {
    fn start() -> ResponseServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let status = Arc::new(AtomicU16::new(200));
        let (send, received) = mpsc::channel();
        let answer = Arc::clone(&status);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    match header.trim_end().split_once(':') {
                        Some((name, value)) => {
                            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()))
                        }
                        None => break,
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(name, _)| name == "content-length")
                    .map_or(0, |(_, value)| value.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = answer.load(Ordering::SeqCst);
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                let received = Received {
                    method: method.to_owned(),
                    target: target.to_owned(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap(),
                };
                if send.send(received).is_err() {
                    return;
                }
            }
        });
        ResponseServer {
            base,
            status,
            received,
        }
    }

    /// What the last response PUT carried.
    fn last(&self) -> Received {
        self.received
            .recv_timeout(Duration::from_secs(10))
            .expect("no response PUT arrived")
    }
}

/// A request as CloudFormation sends it, with a signed-looking query on the response URL.
fn request(server: &ResponseServer, kind: &str, database: &str) -> Value {
    let mut request = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:alice-catalog",
        "ResponseURL": format!("{}/arn%3Aaws%3Acloudformation/{kind}?X-Amz-Signature=ab%2Fcd&X-Amz-Expires=7200", server.base),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/alice-photopipe/5b1c1a70-0000-11ef-8e4b-0a1b2c3d4e5f",
        "RequestId": format!("req-{kind}"),
        "LogicalResourceId": "CatalogSchema",
        "ResourceType": "Custom::CatalogSchema",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:alice-catalog",
            "SchemaVersion": "1",
            "Database": database,
        },
    });
    if kind != "Create" {
        request["PhysicalResourceId"] = json!(format!("catalog-schema:{database}"));
    }
    if kind == "Update" {
        request["OldResourceProperties"] = request["ResourceProperties"].clone();
    }
    request
}

fn retry_for(seconds: u64) -> Retry {
    Retry {
        until: SystemTime::now() + Duration::from_secs(seconds),
        pause: Duration::from_millis(50),
    }
}

/// The response PUT of `request`, checked for what every response must echo.
fn put_of(server: &ResponseServer, request: &Value) -> Value {
    let received = server.last();
    assert_eq!(received.method, "PUT");
    let path_and_query = request["ResponseURL"]
        .as_str()
        .unwrap()
        .trim_start_matches(&server.base);
    assert_eq!(received.target, path_and_query, "the URL is used as given");
    assert!(
        !received
            .headers
            .iter()
            .any(|(name, _)| name == "content-type"),
        "{:?}",
        received.headers
    );
    for echoed in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(received.body[echoed], request[echoed], "{echoed}");
    }
    received.body
}

#[tokio::test]
async fn the_catalog_schema_custom_resource_migrates_and_always_answers() {
    let Some(url) = standin_url() else { return };
    switch(&url, "/standin/reset", json!({}));
    let database = Database::create(&url);
    let catalog = data_api_catalog(&url, &database.name).await;
    let server = ResponseServer::start();
    let responder = Responder::default();
    let physical_id = format!("catalog-schema:{}", database.name);
    let serve = |request: Value, retry: Retry| {
        custom_resource::catalog_schema(request, &catalog, &responder, retry)
    };

    let step_input = json!({"execution_name": "upload-1", "input": {"bucket": "b"}});
    assert!(!custom_resource::is_request(&step_input));

    // Create: the table exists afterwards, and CloudFormation hears SUCCESS.
    let create = request(&server, "Create", &database.name);
    assert!(custom_resource::is_request(&create));
    let sent = serve(create.clone(), retry_for(30)).await.unwrap();
    let put = put_of(&server, &create);
    assert_eq!(put, serde_json::to_value(&sent).unwrap());
    assert_eq!(put["Status"], "SUCCESS");
    assert_eq!(put["PhysicalResourceId"], physical_id.as_str());
    assert!(put["Reason"].as_str().unwrap().contains("[1]"), "{put}");
    let listed = catalog.list(CatalogOrder::ThumbnailSize, Direction::Asc, 5);
    assert_eq!(listed.await.unwrap(), vec![]);

    // Update while the cluster resumes from zero: retried, then SUCCESS with the same
    // physical id (a new one would make CloudFormation delete the old resource).
    switch(&url, "/standin/resuming", json!({"count": 2}));
    let update = request(&server, "Update", &database.name);
    serve(update.clone(), retry_for(30)).await.unwrap();
    let put = put_of(&server, &update);
    assert_eq!(put["Status"], "SUCCESS", "{put}");
    assert_eq!(put["PhysicalResourceId"], physical_id.as_str());
    assert!(
        put["Reason"].as_str().unwrap().contains("up to date"),
        "{put}"
    );

    // Still resuming when the retries must stop: FAILED, with the reason, in time.
    switch(&url, "/standin/resuming", json!({"count": 1000}));
    serve(update.clone(), retry_for(0)).await.unwrap();
    switch(&url, "/standin/reset", json!({}));
    let put = put_of(&server, &update);
    assert_eq!(put["Status"], "FAILED");
    assert!(
        put["Reason"]
            .as_str()
            .unwrap()
            .contains("DatabaseResumingException"),
        "{put}"
    );

    // Delete keeps the data.
    let delete = request(&server, "Delete", &database.name);
    serve(delete.clone(), retry_for(30)).await.unwrap();
    let put = put_of(&server, &delete);
    assert_eq!(put["Status"], "SUCCESS");
    assert_eq!(put["PhysicalResourceId"], physical_id.as_str());
    let listed = catalog.list(CatalogOrder::ThumbnailSize, Direction::Asc, 5);
    assert_eq!(listed.await.unwrap(), vec![], "the table is still there");

    // A resource naming another database than the function's: FAILED, nothing migrated.
    let elsewhere = request(&server, "Create", "another_db");
    serve(elsewhere.clone(), retry_for(30)).await.unwrap();
    let put = put_of(&server, &elsewhere);
    assert_eq!(put["Status"], "FAILED");
    assert!(
        put["Reason"].as_str().unwrap().contains("another_db"),
        "{put}"
    );

    // A database that does not exist: FAILED with the database's own message.
    let missing = format!("{}_missing", database.name);
    let nowhere = data_api_catalog(&url, &missing).await;
    let create_missing = request(&server, "Create", &missing);
    custom_resource::catalog_schema(create_missing.clone(), &nowhere, &responder, retry_for(30))
        .await
        .unwrap();
    let put = put_of(&server, &create_missing);
    assert_eq!(put["Status"], "FAILED");
    assert_eq!(
        put["PhysicalResourceId"],
        format!("catalog-schema:{missing}")
    );
    assert!(
        put["Reason"].as_str().unwrap().contains("Unknown database"),
        "{put}"
    );

    // A request this code cannot read still gets its FAILED answer.
    let mut unreadable = request(&server, "Create", &database.name);
    unreadable["ResourceType"] = json!(42);
    serve(unreadable.clone(), retry_for(30)).await.unwrap();
    let put = put_of(&server, &unreadable);
    assert_eq!(put["Status"], "FAILED");
    assert!(
        put["Reason"]
            .as_str()
            .unwrap()
            .contains("not a custom-resource request"),
        "{put}"
    );

    // When the PUT itself is refused, the invocation fails (and Lambda retries it).
    server.status.store(403, Ordering::SeqCst);
    let refused = serve(create.clone(), retry_for(30)).await;
    server.last();
    assert!(
        matches!(&refused, Err(e) if e.contains("HTTP 403")),
        "{refused:?}"
    );
}
