//! photopipe end to end on emulated AWS: an object put into S3, the S3 notification given to
//! the trigger Lambda, the execution it starts run through the state machine, and what ends
//! up in the buckets, the catalog and the alert topic.
//!
//! What is real: the five release Lambda binaries (`trigger`, `validate`, `resize`,
//! `catalog`, `on_failure`) with their AWS SDK clients, polling cargo-lambda's runtime
//! emulator and invoked through its Lambda invoke API; `statemachine/photo_pipeline.asl.json`
//! with its Retry and Catch; MariaDB holding the catalog.
//!
//! What stands in, and why:
//! - S3, SNS and Step Functions are moto on loopback (no AWS account in CI). moto accepts any
//!   credentials, so IAM is not exercised.
//! - moto's Step Functions records the execution the trigger starts but runs no Lambda (that
//!   needs Docker), so photopipe's local ASL runner executes that execution's input, each Task
//!   invoking a Lambda through the emulator (`photopipe_e2e::Emulator`).
//! - No RDS Data API emulator exists, so the catalog's Data API calls go to
//!   `functions/aws/tests/data_api_standin.py`, which runs them on MariaDB and can answer
//!   `DatabaseResumingException` like a paused Aurora Serverless v2.
//!
//! `functions/e2e/run.sh` starts all of this and runs these tests (they are `#[ignore]`d in a
//! plain `cargo test`, which has none of it). They run one at a time: the emulator knows
//! each function by its binary's name, and the stand-in's "resuming" switch is global.

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use photopipe_e2e::{s3_event, Emulator, Http, Lambda};
use photopipe_statemachine::{EventDetails, Execution, ExecutionStatus, Runner, StateMachine};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Every function's memory: the smallest Lambda size, which every step must fit in.
const MEMORY_MB: u32 = 128;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run functions/e2e/run.sh"))
}

/// One deployment of the pipeline for one scenario: its own buckets, topic, state machine
/// and database, and the five Lambda processes configured for them.
struct World {
    http: Http,
    emulator: Emulator,
    runner: Runner<Emulator>,
    s3: aws_sdk_s3::Client,
    sfn: aws_sdk_sfn::Client,
    moto_url: String,
    data_api_url: String,
    input_bucket: String,
    output_bucket: String,
    log_bucket: String,
    topic_arn: String,
    state_machine_arn: String,
    database: String,
    trigger: String,
    logs: PathBuf,
    lambdas: Vec<Lambda>,
}

impl World {
    async fn new(scenario: &str) -> World {
        let moto_url = env("PHOTOPIPE_MOTO_URL");
        let data_api_url = env("PHOTOPIPE_DATA_API_URL");
        let emulator = Emulator::new(&env("PHOTOPIPE_LAMBDA_EMULATOR_URL"));
        let bin_dir = PathBuf::from(env("PHOTOPIPE_LAMBDA_BIN_DIR"));
        let http = Http::default();
        // Nothing left over from an earlier scenario (such as the "resuming" switch).
        let reset = format!("{data_api_url}/standin/reset");
        http.post_json(&reset, &json!({})).await.unwrap();
        let config: SdkConfig = photopipe_aws::sdk::loader()
            .endpoint_url(&moto_url)
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::new(&config);
        let sfn = aws_sdk_sfn::Client::new(&config);
        let sns = aws_sdk_sns::Client::new(&config);

        let tag = format!("{scenario}-{}", std::process::id());
        let [input_bucket, output_bucket, log_bucket] =
            ["input", "output", "log"].map(|b| format!("e2e-{tag}-{b}"));
        for bucket in [&input_bucket, &output_bucket, &log_bucket] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        let topic = sns
            .create_topic()
            .name(format!("e2e-{tag}-alerts"))
            .send()
            .await;
        let topic_arn = topic.unwrap().topic_arn().unwrap().to_owned();

        // cargo-lambda's emulator only invokes functions named after a binary of the
        // workspace, so the functions keep their binaries' names and scenarios run in turn.
        let function = |step: &str| step.to_owned();
        let definition = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../statemachine/photo_pipeline.asl.json"),
        )
        .unwrap();
        let placeholders = [
            ("ValidateFunctionArn", function("validate")),
            ("ResizeFunctionArn", function("resize")),
            ("CatalogFunctionArn", function("catalog")),
            ("OnFailureFunctionArn", function("on_failure")),
        ];
        // moto gets the definition as deployed (function ARNs); the runner, the same file
        // with function names, which is what the emulator's invoke API takes.
        let mut deployed = definition.clone();
        for (placeholder, name) in &placeholders {
            let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
            deployed = deployed.replace(&format!("${{{placeholder}}}"), &arn);
        }
        let machine = sfn
            .create_state_machine()
            .name(format!("e2e-{tag}-pipeline"))
            .definition(deployed)
            .role_arn("arn:aws:iam::123456789012:role/photopipe-pipeline")
            .send()
            .await
            .unwrap();
        let state_machine_arn = machine.state_machine_arn().to_owned();
        let machine =
            StateMachine::load("photo_pipeline", &definition, placeholders.clone()).unwrap();

        // A database of the scenario's own, fresh on every run (the catalog migrates it).
        let database = format!("photopipe_e2e_{}", scenario.replace('-', "_"));
        let world_sql = |sql: String| {
            json!({"resourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:e2e",
            "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e", "sql": sql})
        };
        for sql in [
            format!("DROP DATABASE IF EXISTS {database}"),
            format!("CREATE DATABASE {database}"),
        ] {
            http.post_json(&format!("{data_api_url}/Execute"), &world_sql(sql))
                .await
                .unwrap();
        }

        let logs = std::env::temp_dir().join(format!("photopipe-e2e-{tag}"));
        std::fs::create_dir_all(&logs).unwrap();
        let common = [
            ("OUTPUT_BUCKET", output_bucket.as_str()),
            ("LOG_BUCKET", log_bucket.as_str()),
            ("RUST_LOG", "info"),
        ];
        let steps: [(&str, Vec<(&str, &str)>); 5] = [
            (
                "trigger",
                vec![("STATE_MACHINE_ARN", state_machine_arn.as_str())],
            ),
            ("validate", vec![]),
            ("resize", vec![]),
            (
                "catalog",
                vec![
                    (
                        "DB_CLUSTER_ARN",
                        "arn:aws:rds:us-east-1:123456789012:cluster:e2e",
                    ),
                    (
                        "DB_SECRET_ARN",
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e",
                    ),
                    ("DB_NAME", database.as_str()),
                    ("AWS_ENDPOINT_URL_RDS_DATA", data_api_url.as_str()),
                ],
            ),
            ("on_failure", vec![("ALERT_TOPIC_ARN", topic_arn.as_str())]),
        ];
        let lambdas = steps
            .iter()
            .map(|(step, extra)| {
                let vars: Vec<_> = common.iter().chain(extra).copied().collect();
                let log = logs.join(format!("{step}.log"));
                Lambda::spawn(
                    &emulator,
                    &bin_dir.join(step),
                    &function(step),
                    MEMORY_MB,
                    &vars,
                    &log,
                )
                .unwrap()
            })
            .collect();

        World {
            runner: Runner::new(machine, emulator.clone()),
            http,
            emulator,
            s3,
            sfn,
            moto_url,
            data_api_url,
            input_bucket,
            output_bucket,
            log_bucket,
            topic_arn,
            state_machine_arn,
            database,
            trigger: function("trigger"),
            logs,
            lambdas,
        }
    }

    /// Puts `bytes` at `key` in the input bucket; the notification S3 would send for it.
    async fn upload(&self, key: &str, bytes: Vec<u8>) -> Value {
        let put = self.s3.put_object().bucket(&self.input_bucket).key(key);
        let put = put.body(ByteStream::from(bytes)).send().await.unwrap();
        let head = self
            .s3
            .head_object()
            .bucket(&self.input_bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(put.e_tag(), head.e_tag());
        let etag = head.e_tag().unwrap().trim_matches('"');
        let size = head.content_length().unwrap() as u64;
        let now = event_time_now();
        s3_event(&self.input_bucket, key, size, etag, head.version_id(), &now)
    }

    /// The trigger Lambda given `event`: its outcome (`started`, `already_started`, `ignored`).
    async fn trigger(&self, event: &Value) -> Value {
        self.emulator.invoke(&self.trigger, event).await.unwrap()
    }

    /// (name, input) of every execution moto's Step Functions holds for the state machine.
    async fn executions(&self) -> Vec<(String, Value)> {
        let listed = self
            .sfn
            .list_executions()
            .state_machine_arn(&self.state_machine_arn);
        let listed = listed.send().await.unwrap();
        let mut executions = Vec::new();
        for execution in listed.executions() {
            let arn = execution.execution_arn();
            let described = self
                .sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .unwrap();
            let input = serde_json::from_str(described.input().unwrap()).unwrap();
            executions.push((execution.name().to_owned(), input));
        }
        executions
    }

    /// The execution of `key` (started by the trigger in moto), run by the local runner.
    async fn run(&self, key: &str) -> Execution {
        let executions = self.executions().await;
        let mut of_key = executions
            .into_iter()
            .filter(|(_, input)| input["key"] == key);
        let (name, input) = of_key
            .next()
            .unwrap_or_else(|| panic!("no execution for {key:?}"));
        assert!(
            of_key.next().is_none(),
            "more than one execution for {key:?}"
        );
        self.runner.run(&name, input).await
    }

    /// Upload, notification, execution: what one photo goes through.
    async fn process(&self, key: &str, bytes: Vec<u8>) -> Execution {
        let event = self.upload(key, bytes).await;
        let outcome = self.trigger(&event).await;
        assert_eq!(outcome["started"], 1, "{outcome}");
        self.run(key).await
    }

    /// The catalog table's rows, read by SQL through the Data API stand-in.
    async fn catalog_rows(&self) -> Vec<Value> {
        let request = json!({
            "resourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:e2e",
            "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e",
            "database": self.database,
            "sql": "SELECT file_name, object_key, original_size, thumbnail_size, thumbnail_key \
                    FROM file_upload_catalog ORDER BY id",
            "formatRecordsAs": "JSON",
        });
        let url = format!("{}/Execute", self.data_api_url);
        let answer = self.http.post_json(&url, &request).await.unwrap();
        serde_json::from_str(answer["formattedRecords"].as_str().unwrap()).unwrap()
    }

    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .map(|o| o.key().unwrap().to_owned())
            .collect()
    }

    async fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        let object = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// (subject, message) of each message published to the alert topic, from moto's state.
    async fn alerts(&self) -> Vec<(String, String)> {
        let data = self
            .http
            .get_json(&format!("{}/moto-api/data.json", self.moto_url))
            .await;
        let data = data.unwrap();
        let topics = data["sns"]["Topic"].as_array().expect("moto's SNS topics");
        let topic = topics
            .iter()
            .find(|t| t["arn"] == self.topic_arn.as_str())
            .unwrap();
        // Each notification is [message_id, message, subject, attributes, group_id].
        let sent = topic["sent_notifications"].as_array().unwrap();
        sent.iter()
            .map(|n| {
                (
                    n[2].as_str().unwrap_or("").to_owned(),
                    n[1].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let names: Vec<_> = self.lambdas.iter().map(|l| l.name.clone()).collect();
        self.lambdas.clear();
        // A failed scenario shows what the functions logged.
        if std::thread::panicking() {
            for name in names {
                let log = std::fs::read_to_string(self.logs.join(format!("{name}.log")));
                eprintln!("--- {name}:\n{}", log.unwrap_or_default());
            }
        } else {
            let _ = std::fs::remove_dir_all(&self.logs);
        }
    }
}

/// Now in RFC 3339 with milliseconds, as S3 writes `eventTime`.
fn event_time_now() -> String {
    aws_sdk_s3::primitives::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
        .unwrap()
}

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../upload_files")
            .join(name),
    )
    .unwrap()
}

/// The failures, retries and catches in an execution's history, in order.
fn history(execution: &Execution) -> Vec<String> {
    execution
        .events
        .iter()
        .filter_map(|event| match &event.details {
            EventDetails::TaskFailed { state, error, .. } => {
                Some(format!("{state} failed {error}"))
            }
            EventDetails::RetryScheduled { state, error, .. } => {
                Some(format!("{state} retry {error}"))
            }
            EventDetails::CatchTaken { state, error, .. } => {
                Some(format!("{state} caught {error}"))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulated AWS that functions/e2e/run.sh starts"]
async fn photos_with_awkward_keys_become_thumbnails_and_catalog_rows() {
    let world = World::new("photos").await;
    // A space and a `+` (S3 sends `+` and `%2B`), and non-ASCII (sent as UTF-8 escapes).
    let keys = ["2026/beach day+1.jpg", "été/café ☕ 東京.jpg"];
    let original = photo("flower.jpg");
    for key in keys {
        let execution = world.process(key, original.clone()).await;
        assert_eq!(
            execution.status,
            ExecutionStatus::Succeeded,
            "{:?}",
            execution.error
        );
        assert_eq!(history(&execution), Vec::<String>::new());
        let output = execution.output.unwrap();
        assert_eq!(output["key"], key, "the trigger decoded the event's key");
        let thumbnail = &output["thumbnail"];
        assert_eq!(thumbnail["bucket"], world.output_bucket.as_str());
        let bytes = world
            .object(&world.output_bucket, thumbnail["key"].as_str().unwrap())
            .await;
        assert_eq!(bytes.len() as u64, thumbnail["bytes"].as_u64().unwrap());
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG thumbnail");
        assert!(thumbnail["width"].as_u64().unwrap() <= 256);
        assert!(thumbnail["height"].as_u64().unwrap() <= 256);
    }
    let rows = world.catalog_rows().await;
    let names: Vec<_> = rows
        .iter()
        .map(|r| r["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beach day+1.jpg", "café ☕ 東京.jpg"]);
    for (row, key) in rows.iter().zip(keys) {
        assert_eq!(row["object_key"], key);
        assert_eq!(row["original_size"], original.len() as u64);
        let thumbnail = world.object(&world.output_bucket, row["thumbnail_key"].as_str().unwrap());
        assert_eq!(row["thumbnail_size"], thumbnail.await.len() as u64);
    }
    assert!(world.alerts().await.is_empty());
    assert!(world.keys(&world.log_bucket, "failures/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulated AWS that functions/e2e/run.sh starts"]
async fn an_empty_file_becomes_a_failure_record_and_one_alert() {
    let world = World::new("empty").await;
    let key = "uploads/empty photo.jpg";
    let execution = world.process(key, Vec::new()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    // The Lambda's errorType reached Catch unchanged, and the Fail state reports it.
    assert_eq!(
        history(&execution),
        [
            "Validate failed PhotoPipe.EmptyObject",
            "Validate caught PhotoPipe.EmptyObject"
        ]
    );
    let error = execution.error.unwrap();
    assert_eq!(error.error, "PhotoPipe.EmptyObject");
    let cause: Value = serde_json::from_str(&error.cause).unwrap();
    assert_eq!(cause["errorType"], "PhotoPipe.EmptyObject");

    let records = world.keys(&world.log_bucket, "failures/").await;
    assert_eq!(records.len(), 1, "{records:?}");
    let record: Value =
        serde_json::from_slice(&world.object(&world.log_bucket, &records[0]).await).unwrap();
    assert_eq!(record["error_type"], "PhotoPipe.EmptyObject", "{record}");
    assert_eq!(record["failed_state"], "Validate", "{record}");
    assert_eq!(record["key"], key, "{record}");
    assert_eq!(
        record["execution_name"],
        execution.name.as_str(),
        "{record}"
    );
    assert_eq!(record["alert"], "sent", "{record}");
    let alerts = world.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].0.contains("PhotoPipe.EmptyObject")
            || alerts[0].1.contains("PhotoPipe.EmptyObject")
    );
    // Neither Resize nor Catalog ran (the catalog's table was not even created).
    let entered: Vec<_> = execution
        .events
        .iter()
        .filter_map(|e| match &e.details {
            EventDetails::StateEntered { state, .. } => Some(state.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(entered, ["Validate", "OnFailure", "Failed"]);
    assert!(world.keys(&world.output_bucket, "").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulated AWS that functions/e2e/run.sh starts"]
async fn a_repeated_notification_starts_one_execution_and_adds_nothing() {
    let world = World::new("twice").await;
    let uploads = [
        ("twice/photo.jpg", photo("china.jpg")),
        ("twice/empty.jpg", Vec::new()),
    ];
    for (key, bytes) in uploads {
        let event = world.upload(key, bytes).await;
        let first = world.trigger(&event).await;
        assert_eq!(first["started"], 1, "{first}");
        // S3 delivers at least once: the same notification again starts nothing new (moto,
        // like Step Functions, answers a running execution's name with that execution).
        let again = world.trigger(&event).await;
        assert_eq!(again["ignored"], 0, "{again}");
        // Each execution runs twice, as when Step Functions retries a step whose first
        // attempt had in fact succeeded: the steps are idempotent.
        for _ in 0..2 {
            world.run(key).await;
        }
    }
    assert_eq!(world.executions().await.len(), 2);
    let rows = world.catalog_rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["object_key"], "twice/photo.jpg");
    assert_eq!(
        world.keys(&world.output_bucket, "thumbnails/").await.len(),
        1
    );
    assert_eq!(world.keys(&world.log_bucket, "failures/").await.len(), 1);
    assert_eq!(world.alerts().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the emulated AWS that functions/e2e/run.sh starts"]
async fn a_resuming_database_is_retried_then_the_photo_is_cataloged() {
    let world = World::new("resuming").await;
    // The next two statements meet a database resuming from zero capacity.
    let url = format!("{}/standin/resuming", world.data_api_url);
    world
        .http
        .post_json(&url, &json!({"count": 2}))
        .await
        .unwrap();
    let execution = world
        .process("resuming/photo.jpg", photo("flower.jpg"))
        .await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error
    );
    assert_eq!(
        history(&execution),
        [
            "Catalog failed PhotoPipe.Transient",
            "Catalog retry PhotoPipe.Transient",
            "Catalog failed PhotoPipe.Transient",
            "Catalog retry PhotoPipe.Transient",
        ]
    );
    let failed_cause = execution.events.iter().find_map(|e| match &e.details {
        EventDetails::TaskFailed { cause, .. } => Some(cause.clone()),
        _ => None,
    });
    assert!(failed_cause.unwrap().contains("DatabaseResumingException"));
    assert_eq!(world.catalog_rows().await.len(), 1);
    assert!(world.alerts().await.is_empty());
}
