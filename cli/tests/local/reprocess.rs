//! `photopipe reprocess` through the real binary over a real data dir: what went missing
//! comes back, what is complete is left alone, a dry run changes nothing, and uploads that
//! failed before run again only when asked.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `photopipe run` of sample files (extra flags first), which must end as expected.
fn run_samples(data_dir: &Path, extra: &[&str], names: &[&str], expected_code: i32) {
    let samples = repo_root().join("upload_files");
    let files: Vec<String> = names
        .iter()
        .map(|name| samples.join(name).display().to_string())
        .collect();
    let mut args = vec!["run"];
    args.extend(extra);
    args.extend(files.iter().map(String::as_str));
    let run = photopipe(&args, data_dir);
    assert_eq!(run.code, expected_code, "{}{}", run.stdout, run.stderr);
}

fn catalog(data_dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["catalog", "list", "--json"];
    args.extend(extra);
    let run = photopipe(&args, data_dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).expect("catalog JSON");
    rows.as_array().expect("an array of rows").clone()
}

fn row_of<'a>(rows: &'a [Value], file_name: &str) -> &'a Value {
    rows.iter()
        .find(|row| row["file_name"] == file_name)
        .unwrap_or_else(|| panic!("no catalog row for {file_name}: {rows:?}"))
}

fn execution_names(data_dir: &Path) -> Vec<String> {
    let run = photopipe(&["executions", "list", "--json"], data_dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list: Value = serde_json::from_str(&run.stdout).expect("executions JSON");
    let mut names: Vec<String> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

/// Every file the pipeline's work leaves (uploads, thumbnails, the website and the objects'
/// metadata, records, alerts, history) with its bytes.
fn work_files(data_dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["input", "output", "logs", "outbox", "executions"]
        .iter()
        .flat_map(|dir| files_below(&data_dir.join(dir)))
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable");
            (path, bytes)
        })
        .collect()
}

#[test]
fn a_deleted_thumbnail_comes_back_and_complete_uploads_are_left_alone() {
    let data = tempdir::TempDir::new();
    let dir = data.path();
    run_samples(dir, &[], &["flower.jpg", "china.jpg"], 0);
    let rows = catalog(dir, &[]);
    let flower = row_of(&rows, "flower.jpg").clone();
    let thumbnail = dir
        .join("output")
        .join(flower["thumbnail_key"].as_str().expect("thumbnail key"));
    let original_thumbnail = std::fs::read(&thumbnail).expect("the thumbnail exists");
    std::fs::remove_file(&thumbnail).expect("thumbnail deleted");
    let executions_before = execution_names(dir);

    let before = work_files(dir);
    let dry = photopipe(&["reprocess", "--dry-run"], dir);
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    let listed: Vec<&str> = dry.stdout.lines().collect();
    assert_eq!(listed.len(), 1, "only the flower: {}", dry.stdout);
    assert!(
        listed[0].starts_with(&format!(
            "would reprocess \"flower.jpg\": no thumbnail, as execution {}-r",
            flower["execution_name"].as_str().unwrap()
        )),
        "under a new name: {}",
        dry.stdout
    );
    assert!(dry.stderr.contains("1 to reprocess"), "{}", dry.stderr);
    assert_eq!(work_files(dir), before, "a dry run changes nothing");
    assert!(!thumbnail.exists());

    let run = photopipe(&["reprocess"], dir);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "china.jpg is complete: {}", run.stdout);
    assert!(
        lines[0].starts_with("ok    \"flower.jpg\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("2 objects in the input bucket: 1 complete, 1 reprocessed (0 failed)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&thumbnail).expect("the thumbnail is back"),
        original_thumbnail
    );
    assert_eq!(catalog(dir, &[]), rows, "the same rows, none added");
    let executions_after = execution_names(dir);
    let new: Vec<&String> = executions_after
        .iter()
        .filter(|name| !executions_before.contains(name))
        .collect();
    assert_eq!(new.len(), 1, "{executions_after:?}");
    assert!(new[0].starts_with(&format!("{}-r", flower["execution_name"].as_str().unwrap())));
    assert!(new[0].len() <= 80);

    let again = photopipe(&["reprocess"], dir);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, "", "nothing left to do");
    assert!(
        again.stderr.contains("2 complete, 0 reprocessed"),
        "{}",
        again.stderr
    );
    assert_eq!(execution_names(dir), executions_after);
}

#[test]
fn a_deleted_catalog_row_comes_back_with_its_upload_time_on_mariadb() {
    let database = TestDatabase::create();
    let data = tempdir::TempDir::new();
    let dir = data.path();
    let url = ["--database-url", database.url.as_str()];
    run_samples(dir, &url, &["flower.jpg", "green meadow.jpg"], 0);
    let rows = catalog(dir, &url);
    database.query("DELETE FROM file_upload_catalog WHERE file_name = 'green meadow.jpg'");
    // A later second than the upload's, so a rerun stamped with its own time would show.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(catalog(dir, &url).len(), 1);

    let dry = photopipe(&["reprocess", "--dry-run", url[0], url[1]], dir);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .starts_with("would reprocess \"green meadow.jpg\": no catalog row"),
        "{}",
        dry.stdout
    );
    assert_eq!(catalog(dir, &url).len(), 1, "a dry run inserts nothing");

    let run = photopipe(&["reprocess", url[0], url[1]], dir);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let after = catalog(dir, &url);
    assert_eq!(after.len(), 2, "{after:?}");
    let (old, new) = (
        row_of(&rows, "green meadow.jpg"),
        row_of(&after, "green meadow.jpg"),
    );
    // The upload's own time, not the reprocess's: the rerun ran on the first input.
    for field in [
        "upload_date",
        "upload_time",
        "thumbnail_key",
        "thumbnail_size",
    ] {
        assert_eq!(old[field], new[field], "{field}");
    }
    assert_ne!(old["execution_name"], new["execution_name"]);
    assert_eq!(
        row_of(&after, "flower.jpg"),
        row_of(&rows, "flower.jpg"),
        "the complete upload is untouched"
    );
}

#[test]
fn failed_uploads_run_again_only_with_failed_and_a_new_version_runs_anyway() {
    let data = tempdir::TempDir::new();
    let dir = data.path();
    run_samples(dir, &[], &["empty.jpg", "flower.jpg"], 1);
    let failures = || files_below(&dir.join("logs").join("failures")).len();
    let alerts = || files_in(&dir.join("outbox")).len();
    assert_eq!((failures(), alerts()), (1, 1));
    let executions = execution_names(dir);

    let run = photopipe(&["reprocess"], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("skip  \"empty.jpg\": failed before"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 failed before and left alone"),
        "{}",
        run.stderr
    );
    assert_eq!(execution_names(dir), executions);

    // Nothing was fixed: it fails again, with its own record and alert, and says so.
    let run = photopipe(&["reprocess", "--failed"], dir);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("FAIL  \"empty.jpg\": PhotoPipe.EmptyObject"),
        "{}",
        run.stdout
    );
    assert_eq!((failures(), alerts()), (2, 2));
    assert_eq!(execution_names(dir).len(), executions.len() + 1);

    // The file replaced by a photo is a new version no execution has seen: it runs
    // without --failed, under the name its S3 event would get.
    std::fs::write(dir.join("input").join("empty.jpg"), sample("flower.jpg")).expect("write");
    let run = photopipe(&["reprocess"], dir);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("ok    \"empty.jpg\""),
        "{}",
        run.stdout
    );
    assert_eq!(catalog(dir, &[]).len(), 2);
}
