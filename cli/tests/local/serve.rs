//! The original assignment's success criteria, end to end through `photopipe serve`, and
//! the faults the pipeline must survive.

use crate::support::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const PHOTOS: [&str; 5] = [
    "china.jpg",
    "flower.jpg",
    "green meadow.jpg",
    "dragonfly by Bolly.jpg",
    "fallen leaf (transparent).png",
];

/// `(file, expected error type)` for the deliberate non-photos of upload_files/.
const NON_PHOTOS: [(&str, &str); 3] = [
    ("empty.jpg", "PhotoPipe.EmptyObject"),
    ("notes.txt", "PhotoPipe.UnsupportedFormat"),
    ("album.json", "PhotoPipe.UnsupportedFormat"),
];

fn upload_samples(server: &Server) -> Vec<(String, Value)> {
    let mut answers = Vec::new();
    for name in PHOTOS.iter().chain(NON_PHOTOS.iter().map(|(n, _)| n)) {
        let (status, answer) = server.upload(name, &sample(name));
        assert_eq!(status, 201, "{name}: {answer}");
        answers.push((name.to_string(), answer));
    }
    answers
}

fn eml_files(server: &Server) -> Vec<String> {
    files_in(&server.data_dir.path().join("outbox"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).expect("readable .eml"))
        .collect()
}

fn failure_records(server: &Server) -> Vec<Value> {
    files_below(&server.data_dir.path().join("logs").join("failures"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("record")).expect("JSON record"))
        .collect()
}

#[test]
fn assignment_success_criteria_end_to_end() {
    let server = Server::start(&[]);
    let answers = upload_samples(&server);

    // Photos → thumbnails and rows; non-photos → failure record and alert, each saying what.
    for (name, answer) in &answers {
        match NON_PHOTOS.iter().find(|(n, _)| n == name) {
            None => {
                assert_eq!(answer["ok"], true, "{name}: {answer}");
                assert_eq!(answer["catalog"]["file_name"], name.as_str());
            }
            Some((_, error_type)) => {
                assert_eq!(answer["ok"], false, "{name}: {answer}");
                assert_eq!(
                    answer["failure"]["error_type"], *error_type,
                    "{name}: {answer}"
                );
                assert_eq!(answer["failure"]["key"], name.as_str());
            }
        }
    }

    // The five smallest thumbnails, ascending, with the five fields the assignment names.
    let smallest = server.get_json("/api/catalog?order_by=thumbnail_size&direction=asc&limit=5");
    let rows = smallest.as_array().expect("array");
    assert_eq!(rows.len(), 5);
    let sizes: Vec<u64> = rows
        .iter()
        .map(|r| r["thumbnail_size"].as_u64().expect("int"))
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {sizes:?}"
    );
    for row in rows {
        let date = row["upload_date"].as_str().expect("date");
        let time = row["upload_time"].as_str().expect("time");
        assert!(
            date.len() == 10 && date.as_bytes()[4] == b'-',
            "upload_date {date}"
        );
        assert!(
            time.len() == 8 && time.as_bytes()[2] == b':',
            "upload_time {time}"
        );
        let name = row["file_name"].as_str().expect("file name");
        assert!(PHOTOS.contains(&name), "{name}");
        assert_eq!(
            row["original_size"].as_u64(),
            Some(sample(name).len() as u64),
            "{name}"
        );
        assert!(row["thumbnail_size"].as_u64().expect("size") > 0);
    }

    // A thumbnail over HTTP, as the website links it: a JPEG of the catalogued size.
    let key = rows[0]["thumbnail_key"].as_str().expect("thumbnail key");
    let thumbnail = server
        .request("GET", &format!("/{key}"), &[])
        .expect("GET thumbnail");
    assert_eq!(thumbnail.status, 200);
    assert!(
        thumbnail.body.starts_with(&[0xFF, 0xD8, 0xFF]),
        "not a JPEG"
    );
    assert_eq!(
        Some(thumbnail.body.len() as u64),
        rows[0]["thumbnail_size"].as_u64()
    );
    assert!(thumbnail
        .headers
        .to_ascii_lowercase()
        .contains("content-type: image/jpeg"));

    // The website and its data, as the S3 website endpoint serves them.
    let index = server.request("GET", "/", &[]).expect("GET /");
    assert_eq!(index.status, 200);
    assert!(String::from_utf8_lossy(&index.body).contains("gallery"));
    let gallery = server.get_json("/gallery.json");
    assert_eq!(
        gallery["photos"].as_array().map(Vec::len),
        Some(PHOTOS.len())
    );
    let missing = server
        .request("GET", "/no/such/page", &[])
        .expect("GET missing");
    assert_eq!(missing.status, 404);
    assert!(String::from_utf8_lossy(&missing.body)
        .to_lowercase()
        .contains("<html"));

    // Nothing lost silently: one record and one alert per bad upload, naming it.
    let records = failure_records(&server);
    assert_eq!(records.len(), NON_PHOTOS.len(), "{records:?}");
    for (name, error_type) in NON_PHOTOS {
        let record = records
            .iter()
            .find(|r| r["key"] == name)
            .unwrap_or_else(|| panic!("no record for {name}"));
        assert_eq!(record["error_type"], error_type);
        assert!(!record["error_message"].as_str().unwrap_or("").is_empty());
    }
    let mails = eml_files(&server);
    assert_eq!(mails.len(), NON_PHOTOS.len());
    for (name, _) in NON_PHOTOS {
        assert!(
            mails.iter().any(|m| m.contains(name)),
            "no alert names {name}"
        );
    }

    // The console's view: every execution listed with its final state; metrics counted.
    let page = server
        .request("GET", "/executions", &[])
        .expect("executions page");
    let page = String::from_utf8_lossy(&page.body);
    assert_eq!(page.matches("SUCCEEDED").count(), PHOTOS.len());
    assert_eq!(page.matches("FAILED").count(), NON_PHOTOS.len());
    let recent = server
        .request("GET", "/executions?limit=2", &[])
        .expect("executions page");
    let recent = String::from_utf8_lossy(&recent.body);
    assert_eq!(
        recent.matches("<tr><td class=\"file\">").count(),
        2,
        "{recent}"
    );
    assert!(
        recent.contains(&format!(
            "The 2 most recent of {} executions",
            PHOTOS.len() + NON_PHOTOS.len()
        )),
        "{recent}"
    );
    let metrics =
        String::from_utf8_lossy(&server.request("GET", "/metrics", &[]).unwrap().body).into_owned();
    assert!(
        metrics.contains("photopipe_executions_started_total 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("photopipe_executions_succeeded_total 5"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "photopipe_executions_failed_total{error_type=\"PhotoPipe.UnsupportedFormat\"} 2"
    ));
}

#[test]
fn the_same_upload_twice_is_one_execution_one_row_one_alert() {
    let server = Server::start(&[]);
    let (_, first) = server.upload("china.jpg", &sample("china.jpg"));
    let (_, again) = server.upload("china.jpg", &sample("china.jpg"));
    assert_eq!(first["execution"], again["execution"]);
    assert_eq!(first["catalog"]["id"], again["catalog"]["id"]);
    let (_, bad) = server.upload("empty.jpg", b"");
    let (_, bad_again) = server.upload("empty.jpg", b"");
    assert_eq!(bad["execution"], bad_again["execution"]);

    let rows = server.get_json("/api/catalog?limit=100");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(eml_files(&server).len(), 1);
    assert_eq!(failure_records(&server).len(), 1);
    let executions = files_in(&server.data_dir.path().join("executions"));
    assert_eq!(executions.len(), 2, "{executions:?}");
}

#[test]
fn bad_requests_get_a_json_error() {
    let server = Server::start(&[]);
    for name in ["..", "a%2Fb.jpg", "tab%09name.jpg"] {
        let response = server
            .request("PUT", &format!("/uploads/{name}"), b"x")
            .expect("request");
        assert_eq!(response.status, 400, "{name}");
        let body: Value = serde_json::from_slice(&response.body).expect("JSON error");
        assert_eq!(body["ok"], false);
        assert!(
            body["error"]
                .as_str()
                .unwrap_or("")
                .contains("bad file name"),
            "{body}"
        );
    }
    let bad_query = server
        .request("GET", "/api/catalog?order_by=password", &[])
        .expect("request");
    assert_eq!(bad_query.status, 400);
    for limit in ["0", "-1", "many"] {
        let refused = server
            .request("GET", &format!("/executions?limit={limit}"), &[])
            .expect("request");
        assert_eq!(refused.status, 400, "limit={limit}");
    }
}

/// Sends `request` (head and body, as raw bytes) and returns the answer's status and JSON.
fn exchange(server: &Server, request: &[u8]) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(&server.address).expect("connect");
    stream.write_all(request).expect("request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("answer");
    let answer = String::from_utf8_lossy(&raw);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok());
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok());
    match (status, json) {
        (Some(status), Some(json)) => (status, json),
        _ => panic!("not an HTTP answer with a JSON body: {answer}"),
    }
}

/// A PUT of `body` in `Transfer-Encoding: chunked`, `piece` bytes a chunk: an upload whose
/// size the server learns only as it arrives.
fn chunked_put(server: &Server, path: &str, body: &[u8], piece: usize) -> Vec<u8> {
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.address
    )
    .into_bytes();
    for chunk in body.chunks(piece) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    request
}

#[test]
fn uploads_are_stored_as_they_arrive_and_refused_over_the_limit() {
    let data_dir = tempdir::TempDir::new();
    let config = data_dir.path().join("limits.toml");
    std::fs::write(&config, "max_input_bytes = 400000\n").expect("config");
    let server = Server::start_in(data_dir, &["--config", config.to_str().expect("UTF-8")]);
    let input = server.data_dir.path().join("input");

    // Sent in 64 KiB chunks with no length announced, written in pieces: stored whole.
    let photo = sample("fallen leaf (transparent).png");
    let (status, answer) = exchange(
        &server,
        &chunked_put(&server, "/uploads/leaf.png", &photo, 64 * 1024),
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(
        std::fs::read(input.join("leaf.png")).expect("stored"),
        photo
    );

    // Over the limit: refused when the length is announced, before any byte is read…
    let announced = format!(
        "PUT /uploads/announced.jpg HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Length: 400001\r\n\r\n",
        server.address
    );
    let (status, answer) = exchange(&server, announced.as_bytes());
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or("")
            .contains("400000 bytes"),
        "{answer}"
    );
    // …and once the limit is passed when it is not.
    let over = vec![0xff; 400_001];
    let (status, answer) = exchange(
        &server,
        &chunked_put(&server, "/uploads/streamed.jpg", &over, 64 * 1024),
    );
    assert_eq!(status, 413, "{answer}");

    // Neither left anything in the input bucket, not even a temporary file.
    let mut names: Vec<_> = std::fs::read_dir(&input)
        .expect("input folder")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["leaf.png"]);
}

#[test]
fn sigterm_answers_the_upload_in_flight_then_exits_cleanly() {
    let mut server = Server::start(&[]);
    let photo = sample("china.jpg");
    let (head, rest) = photo.split_at(photo.len() / 2);
    let mut upload = std::net::TcpStream::connect(&server.address).expect("connect");
    write!(
        upload,
        "PUT /uploads/china.jpg HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n",
        server.address,
        photo.len()
    )
    .expect("headers");
    upload.write_all(head).expect("first half");
    // The upload is being written into the input bucket: the server is in the middle of it.
    let input = server.data_dir.path().join("input");
    let deadline = Instant::now() + Duration::from_secs(30);
    while files_in(&input).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the upload never started arriving"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    server.terminate();
    // Stopping: new connections are refused…
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&server.address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // …but the upload in flight is received, run and answered.
    upload.write_all(rest).expect("second half");
    let mut answer = Vec::new();
    upload.read_to_end(&mut answer).expect("answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains(r#""ok":true"#), "{answer}");
    let status = server.exit_status(Duration::from_secs(30));
    assert!(status.success(), "serve exited with {status} after SIGTERM");
}

#[test]
fn files_dropped_into_input_and_uploads_pending_at_a_restart_are_processed() {
    let server = Server::start(&[]);
    // A file copied into the input folder by other means starts an execution.
    let input = server.data_dir.path().join("input");
    std::fs::write(input.join("dropped.jpg"), sample("flower.jpg")).expect("write");
    wait_for_rows(&server, 1);

    // Stopped, a file arrives; started again, it is picked up.
    let data_dir = server.stop();
    std::fs::write(
        data_dir.path().join("input").join("while stopped.jpg"),
        sample("china.jpg"),
    )
    .expect("write");
    let server = Server::start_in(data_dir, &[]);
    let rows = wait_for_rows(&server, 2);
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["file_name"].as_str())
        .collect();
    assert!(
        names.contains(&"while stopped.jpg") && names.contains(&"dropped.jpg"),
        "{names:?}"
    );
}

#[test]
fn a_file_still_being_copied_into_input_runs_once_when_whole() {
    let server = Server::start(&[]);
    let input = server.data_dir.path().join("input");
    std::fs::create_dir_all(&input).expect("input folder");
    let photo = sample("china.jpg");
    // Written over ~3 s in pieces, as over a slow link: the watcher looks every second.
    let mut file = std::fs::File::create(input.join("copied slowly.jpg")).expect("create");
    for piece in photo.chunks(photo.len() / 6 + 1) {
        file.write_all(piece).expect("write");
        file.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(file);

    let rows = wait_for_rows(&server, 1);
    assert_eq!(rows[0]["original_size"], photo.len(), "{rows:?}");
    // A part of it taken for the whole would have failed as corrupt (a failure record and
    // an alert) or been catalogued as a photo of its own.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(failure_records(&server), Vec::<Value>::new());
    assert_eq!(eml_files(&server), Vec::<String>::new());
    assert_eq!(wait_for_rows(&server, 1).len(), 1);
    let histories: Vec<_> = files_in(&server.data_dir.path().join("executions"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(histories.len(), 1, "{histories:?}");
}

fn wait_for_rows(server: &Server, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = server.get_json("/api/catalog?limit=100");
        let rows = rows.as_array().cloned().unwrap_or_default();
        if rows.len() >= count {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} rows after 60 s",
            rows.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn catalog_on_mariadb() {
    let database = TestDatabase::create();
    let server = Server::start(&["--database-url", &database.url]);
    for name in ["china.jpg", "flower.jpg", "green meadow.jpg"] {
        let (_, answer) = server.upload(name, &sample(name));
        assert_eq!(answer["ok"], true, "{answer}");
    }
    // Read back with MariaDB's own client: the real table, the real types.
    let rows = database.query(
        "SELECT upload_date, upload_time, file_name, original_size, thumbnail_size \
         FROM file_upload_catalog ORDER BY thumbnail_size ASC LIMIT 5",
    );
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 3, "{rows}");
    let sizes: Vec<u64> = lines
        .iter()
        .map(|l| l.split('\t').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
    assert!(lines.iter().any(|l| l.contains("green meadow.jpg")));
    let api = server.get_json("/api/catalog?order_by=thumbnail_size&direction=asc&limit=5");
    let api_sizes: Vec<u64> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["thumbnail_size"].as_u64().unwrap())
        .collect();
    assert_eq!(api_sizes, sizes);
}

#[test]
fn database_away_mid_run_retries_and_loses_nothing() {
    let database = TestDatabase::create();
    let proxy = FlakyProxy::start("127.0.0.1:3306");
    let url = database
        .url
        .replace("127.0.0.1:3306", &format!("127.0.0.1:{}", proxy.port));
    let server = std::sync::Arc::new(Server::start(&["--database-url", &url]));
    proxy.down();
    let uploads: Vec<_> = ["china.jpg", "flower.jpg", "green meadow.jpg"]
        .into_iter()
        .map(|name| {
            let server = server.clone();
            std::thread::spawn(move || server.upload(name, &sample(name)))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    proxy.back_up();
    for upload in uploads {
        let (status, answer) = upload.join().expect("upload thread");
        assert_eq!(status, 201);
        assert_eq!(
            answer["ok"], true,
            "lost while the database was away: {answer}"
        );
    }
    let count =
        database.query("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM file_upload_catalog");
    assert_eq!(count.trim(), "3\t3", "rows lost or duplicated");
    assert!(failure_records(&server).is_empty());
    let metrics =
        String::from_utf8_lossy(&server.request("GET", "/metrics", &[]).unwrap().body).into_owned();
    let retries: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("photopipe_task_retries_total "))
        .and_then(|v| v.parse().ok())
        .expect("retry counter");
    assert!(retries >= 1, "the outage caused no retry: {metrics}");
}

#[test]
fn alerts_go_over_smtp_and_arrive_after_the_mail_server_comes_back() {
    let smtp_port = free_port();
    let url = format!("smtp://127.0.0.1:{smtp_port}");
    let server = std::sync::Arc::new(Server::start(&[
        "--smtp-url",
        &url,
        "--alert-to",
        "ops@example.test",
    ]));
    // Nothing listens on the SMTP port yet: the alert fails and OnFailure is retried.
    let upload = {
        let server = server.clone();
        std::thread::spawn(move || server.upload("empty.jpg", b""))
    };
    std::thread::sleep(Duration::from_secs(3));
    let sink = SmtpSink::start(smtp_port);
    let (status, answer) = upload.join().expect("upload thread");
    assert_eq!(status, 201);
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["failure"]["alert"], "sent", "{answer}");
    let messages = sink.messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(message.contains("ops@example.test"), "{message}");
    assert!(
        message.contains("empty.jpg") && message.contains("PhotoPipe.EmptyObject"),
        "{message}"
    );
    assert!(
        eml_files(&server).is_empty(),
        "SMTP configured, yet the outbox was used"
    );
}

/// Many uploads resizing at once, each JPEG decoded on its resize slot's thread: every one is
/// answered with its thumbnail. (When the slots shared one rayon pool, a thread waiting for its
/// decode's tasks could start another resize inside the first one's runtime `block_on` and
/// panic, dropping that upload's connection: about one upload in 70 here.)
#[test]
fn concurrent_uploads_each_get_their_thumbnail() {
    let server = std::sync::Arc::new(Server::start(&[]));
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let server = server.clone();
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                for round in 0..3 {
                    for name in ["china.jpg", "flower.jpg", "dragonfly by Bolly.jpg"] {
                        let key = format!("{client}-{round} {name}");
                        answers.push(server.upload(&key, &sample(name)));
                    }
                }
                answers
            })
        })
        .collect();
    for client in clients {
        for (status, answer) in client.join().expect("client thread") {
            assert_eq!(status, 201, "{answer}");
            assert_eq!(answer["ok"], true, "{answer}");
        }
    }
}
