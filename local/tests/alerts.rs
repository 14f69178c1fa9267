//! MailAlerts against a real SMTP listener on loopback, and into an outbox folder: the
//! messages parsed back, failures classified, headers safe from injection.

mod common;

use common::{parse_message, Parsed, TempDir};
use photopipe_local::{MailAlerts, MailConfig};
use photopipe_pipeline::ports::{Alert, Alerts, PortError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

fn alert() -> Alert {
    Alert {
        subject: "PhotoPipe: empty.jpg failed (PhotoPipe.EmptyObject)".to_owned(),
        body: "The upload input/empty.jpg could not be processed.\n\
               .a line starting with a dot\n\
               Record: logs/failures/2024-05-01/empty.jpg-0123456789abcdef.json\n"
            .to_owned(),
    }
}

/// What the test server received in one session.
struct Session {
    commands: Vec<String>,
    message: Option<String>,
}

/// A one-connection SMTP server on loopback that answers `MAIL FROM` with `mail_reply`.
async fn smtp_server(mail_reply: &'static str) -> (u16, JoinHandle<Session>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut session = Session {
            commands: Vec::new(),
            message: None,
        };
        write
            .write_all(b"220 localhost ESMTP test\r\n")
            .await
            .unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            session.commands.push(line);
            let reply = match verb.as_str() {
                "EHLO" => "250-localhost\r\n250 HELP",
                "MAIL" => mail_reply,
                "RCPT" => "250 2.1.5 OK",
                "RSET" | "NOOP" => "250 OK",
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    let mut message = String::new();
                    loop {
                        let line = lines.next_line().await.unwrap().unwrap();
                        if line == "." {
                            break;
                        }
                        // Undo SMTP's dot-stuffing.
                        message += line.strip_prefix('.').unwrap_or(&line);
                        message += "\r\n";
                    }
                    session.message = Some(message);
                    "250 2.0.0 queued"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => "502 not implemented",
            };
            write
                .write_all(format!("{reply}\r\n").as_bytes())
                .await
                .unwrap();
        }
        session
    });
    (port, server)
}

fn smtp_alerts(port: u16) -> MailAlerts {
    MailAlerts::new(&MailConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        from: "PhotoPipe <photopipe@example.test>".to_owned(),
        to: "ops@example.test, oncall@example.test".to_owned(),
        // Not used with SMTP.
        ..MailConfig::new("outbox")
    })
    .unwrap()
}

fn assert_alert_message(message: &Parsed, alert: &Alert) {
    assert_eq!(message.header("Subject"), Some(alert.subject.as_str()));
    assert!(message.header("Date").is_some());
    assert!(message.header("Message-ID").is_some());
    assert!(message
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(message.header("Content-Transfer-Encoding"), Some("7bit"));
    assert_eq!(message.body.trim_end(), alert.body.trim_end());
}

#[tokio::test]
async fn smtp_delivers_the_alert() {
    let (port, server) = smtp_server("250 2.1.0 OK").await;
    smtp_alerts(port).send(&alert()).await.unwrap();
    let session = server.await.unwrap();
    assert!(session
        .commands
        .contains(&"MAIL FROM:<photopipe@example.test>".to_owned()));
    assert!(session
        .commands
        .contains(&"RCPT TO:<ops@example.test>".to_owned()));
    assert!(session
        .commands
        .contains(&"RCPT TO:<oncall@example.test>".to_owned()));
    let message = parse_message(&session.message.unwrap());
    assert_alert_message(&message, &alert());
    assert_eq!(
        message.header("From"),
        Some("PhotoPipe <photopipe@example.test>")
    );
    assert_eq!(
        message.header("To"),
        Some("ops@example.test, oncall@example.test")
    );
}

#[tokio::test]
async fn mail_server_down_is_transient() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = smtp_alerts(port).send(&alert()).await.unwrap_err();
    assert!(matches!(err, PortError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn smtp_replies_are_classified() {
    let (port, server) = smtp_server("451 4.3.0 try again later").await;
    let err = smtp_alerts(port).send(&alert()).await.unwrap_err();
    assert!(matches!(err, PortError::Transient(_)), "{err:?}");
    server.abort();

    let (port, server) = smtp_server("550 5.7.1 relaying denied").await;
    let err = smtp_alerts(port).send(&alert()).await.unwrap_err();
    assert!(matches!(err, PortError::Permanent(_)), "{err:?}");
    server.abort();
}

#[tokio::test]
async fn outbox_files_are_rfc_5322_messages() {
    let dir = TempDir::new();
    let outbox = dir.path().join("outbox");
    let alerts = MailAlerts::new(&MailConfig::new(&outbox)).unwrap();
    alerts.send(&alert()).await.unwrap();
    let hostile = Alert {
        subject: "Failed\r\nBcc: evil@example.test\r\nX-Injected: yes\n\nbody".to_owned(),
        body: "short".to_owned(),
    };
    alerts.send(&hostile).await.unwrap();

    let mut files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let messages: Vec<_> = files
        .iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_str().unwrap();
            // <YYYYMMDD>T<HHMMSS>.<mmm>Z-<12 hex>.eml
            assert_eq!(
                name.len(),
                "20240501T120000.000Z-0123456789ab.eml".len(),
                "{name}"
            );
            assert!(
                name.ends_with(".eml") && name.as_bytes()[8] == b'T',
                "{name}"
            );
            parse_message(&std::fs::read_to_string(file).unwrap())
        })
        .collect();
    let (plain, injected) = if messages[0].header("Subject") == Some(alert().subject.as_str()) {
        (&messages[0], &messages[1])
    } else {
        (&messages[1], &messages[0])
    };
    assert_alert_message(plain, &alert());
    assert_eq!(plain.header("From"), Some("photopipe@localhost"));
    assert_eq!(plain.header("To"), Some("operations@localhost"));

    for name in ["Bcc", "X-Injected"] {
        assert_eq!(injected.header(name), None, "{:?}", injected.headers);
    }
    let subject = injected.header("Subject").unwrap();
    assert!(subject.contains("Bcc: evil@example.test"), "{subject:?}");
    assert_eq!(injected.body.trim_end(), "short");
}

#[test]
fn bad_configuration_is_refused_without_showing_the_password() {
    let config = |url: &str| MailConfig {
        smtp_url: Some(url.to_owned()),
        ..MailConfig::new("outbox")
    };
    for url in [
        "smtps://user:s3cret@mail.example.test:465",
        "smtp://user:s3cret@mail.example.test:587?tls=required",
        "http://user:s3cret@mail.example.test",
    ] {
        let err = MailAlerts::new(&config(url)).unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
    let with_password = config("smtp://user:s3cret@127.0.0.1:25");
    assert!(!format!("{with_password:?}").contains("s3cret"));
    let alerts = MailAlerts::new(&with_password).unwrap();
    assert!(!format!("{alerts:?}").contains("s3cret"));
    let bad_address = MailConfig {
        to: "not an address".to_owned(),
        ..MailConfig::new("outbox")
    };
    assert!(MailAlerts::new(&bad_address).is_err());
}
