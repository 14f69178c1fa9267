//! Test support: a `photopipe serve` process on a free port with its own data dir, a
//! minimal HTTP/1.1 client (enough for these tests; no client crate needed), fresh MariaDB
//! databases, and the sample files.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("upload_files").join(name)).expect("sample upload exists")
}

/// What a `photopipe` command printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `photopipe` binary with `args` and `--data-dir data_dir`.
pub fn photopipe(args: &[&str], data_dir: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_photopipe"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("photopipe runs");
    Run {
        code: output.status.code().expect("photopipe exited"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `photopipe serve`; killed on drop.
pub struct Server {
    pub address: String,
    pub data_dir: tempdir::TempDir,
    child: Child,
}

impl Server {
    /// Starts the server with extra flags and waits until it answers /healthz.
    pub fn start(extra: &[&str]) -> Server {
        let data_dir = tempdir::TempDir::new();
        Server::start_in(data_dir, extra)
    }

    pub fn start_in(data_dir: tempdir::TempDir, extra: &[&str]) -> Server {
        let address = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_photopipe"))
            .args(["serve", "--listen", &address, "--data-dir"])
            .arg(data_dir.path())
            .args(extra)
            .stdin(Stdio::null())
            .spawn()
            .expect("photopipe starts");
        let server = Server {
            address,
            data_dir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = server.request("GET", "/healthz", &[]) {
                if response.status == 200 {
                    return server;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("photopipe serve did not answer /healthz within 30 s");
    }

    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Response> {
        http(&self.address, method, path, body)
    }

    /// PUT /uploads/{name} and the JSON answer.
    pub fn upload(&self, name: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let path = format!("/uploads/{}", percent_encode(name));
        let response = self.request("PUT", &path, body).expect("upload request");
        let json = serde_json::from_slice(&response.body).unwrap_or_else(|e| {
            panic!(
                "upload answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&response.body)
            )
        });
        (response.status, json)
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.request("GET", path, &[]).expect("GET");
        assert_eq!(
            response.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&response.body)
        );
        serde_json::from_slice(&response.body).expect("JSON")
    }

    /// Sends SIGTERM, as systemd or `docker stop` would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM: {status}");
    }

    /// How the process ended, waiting up to `within` for it.
    pub fn exit_status(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(mut self) -> tempdir::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.data_dir, tempdir::TempDir::empty())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

/// One HTTP/1.1 request with `Connection: close`; reads the whole answer.
pub fn http(address: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(300)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut body = raw[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
    out
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Files directly in `dir` (empty when it does not exist).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// All files below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in files_in(dir) {
        found.push(path);
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                found.extend(files_below(&entry.path()));
            }
        }
    }
    found.sort();
    found
}

/// A fresh MariaDB database for one test, dropped at the end (zero2prod's pattern).
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        let server = std::env::var("PHOTOPIPE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let name = format!("photopipe_e2e_{}_{}", std::process::id(), free_port());
        mysql_admin(&format!("CREATE DATABASE {name}"));
        TestDatabase {
            url: format!("{}/{name}", server.trim_end_matches('/')),
            name,
        }
    }

    /// Runs a statement on this database through the `mariadb` client.
    pub fn query(&self, sql: &str) -> String {
        let output = Command::new("mariadb")
            .args([
                "-h",
                "127.0.0.1",
                "-u",
                "root",
                "--batch",
                "--skip-column-names",
                &self.name,
                "-e",
                sql,
            ])
            .output()
            .expect("the mariadb client runs");
        assert!(
            output.status.success(),
            "mariadb: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        mysql_admin(&format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

fn mysql_admin(sql: &str) {
    let output = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "-e", sql])
        .output()
        .expect("the mariadb client runs (MariaDB must be running on 127.0.0.1:3306)");
    assert!(
        output.status.success(),
        "mariadb {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub mod tempdir {
    use std::path::{Path, PathBuf};

    /// A temporary folder removed on drop.
    pub struct TempDir(Option<PathBuf>);

    impl TempDir {
        pub fn new() -> TempDir {
            let path = std::env::temp_dir().join(format!(
                "photopipe-test-{}-{}",
                std::process::id(),
                super::free_port()
            ));
            std::fs::create_dir_all(&path).expect("temp dir");
            TempDir(Some(path))
        }

        pub fn empty() -> TempDir {
            TempDir(None)
        }

        pub fn path(&self) -> &Path {
            self.0.as_deref().expect("a live temp dir")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            if let Some(path) = &self.0 {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
}

/// A minimal SMTP server on loopback that keeps every message it receives (enough of RFC
/// 5321 for lettre: EHLO, MAIL, RCPT, DATA, QUIT).
pub struct SmtpSink {
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub fn start(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("SMTP port free");
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    if let Some(message) = smtp_session(stream) {
                        sink.lock().unwrap().push(message);
                    }
                });
            }
        });
        SmtpSink { messages }
    }
}

fn smtp_session(stream: TcpStream) -> Option<String> {
    use std::io::BufRead;
    let mut writer = stream.try_clone().ok()?;
    let mut reader = std::io::BufReader::new(stream);
    writer.write_all(b"220 test ESMTP\r\n").ok()?;
    let mut message = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return message;
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            writer.write_all(b"250-test\r\n250 8BITMIME\r\n").ok()?;
        } else if command.starts_with("DATA") {
            writer.write_all(b"354 go ahead\r\n").ok()?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).ok()? == 0 {
                    return None;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            message = Some(data);
            writer.write_all(b"250 queued\r\n").ok()?;
        } else if command.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n").ok()?;
            return message;
        } else {
            writer.write_all(b"250 ok\r\n").ok()?;
        }
    }
}

/// A TCP proxy in front of MariaDB that the test can take down and bring back, to play a
/// database that goes away mid-run without touching the shared server.
pub struct FlakyProxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FlakyProxy {
    pub fn start(target: &'static str) -> FlakyProxy {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(AtomicBool::new(true));
        let generation = std::sync::Arc::new(AtomicU64::new(0));
        let (up_flag, generations) = (up.clone(), generation.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up_flag.load(Ordering::SeqCst) {
                    drop(client); // refused: the database is "down"
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let born = generations.load(Ordering::SeqCst);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let (up_flag, generations) = (up_flag.clone(), generations.clone());
                    from.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16384];
                        loop {
                            // A connection made before the last outage dies with it.
                            if !up_flag.load(Ordering::SeqCst)
                                || generations.load(Ordering::SeqCst) != born
                            {
                                let _ = from.shutdown(std::net::Shutdown::Both);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                return;
                            }
                            match from.read(&mut buffer) {
                                Ok(0) => {
                                    let _ = to.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                                Ok(n) => {
                                    if to.write_all(&buffer[..n]).is_err() {
                                        return;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => {
                                    let _ = to.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                            }
                        }
                    });
                }
            }
        });
        FlakyProxy {
            port,
            up,
            generation,
        }
    }

    pub fn down(&self) {
        use std::sync::atomic::Ordering;
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn back_up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
