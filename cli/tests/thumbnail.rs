//! The `photopipe thumbnail` contract other tools build on: one JSON line per input with
//! the documented fields, the exit status (0 all made, 1 any failed, 2 usage error), the
//! output names, and format from content rather than name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn photopipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photopipe"))
        .args(args)
        .output()
        .expect("photopipe runs")
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../upload_files")
        .join(name)
        .display()
        .to_string()
}

fn out_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("photopipe-thumbnail-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn json_lines_and_exit_status_one_when_any_input_fails() {
    let dir = out_dir("mixed");
    let (photo, text) = (sample("china.jpg"), sample("notes.txt"));
    let output = photopipe(&[
        "thumbnail",
        "--json",
        "--max-edge",
        "100",
        "--out-dir",
        dir.to_str().unwrap(),
        &photo,
        &text,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    let made = lines
        .iter()
        .find(|l| l["input"] == photo.as_str())
        .expect("a line for the photo");
    assert_eq!(made["ok"], true);
    assert_eq!(
        (made["width"].as_u64(), made["height"].as_u64()),
        (Some(100), Some(67))
    );
    let written = std::fs::read(made["output"].as_str().unwrap()).expect("thumbnail written");
    assert_eq!(made["bytes"].as_u64(), Some(written.len() as u64));
    assert_eq!(
        Path::new(made["output"].as_str().unwrap()),
        dir.join("china.jpg")
    );
    let failed = lines
        .iter()
        .find(|l| l["input"] == text.as_str())
        .expect("a line for the text");
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"]["kind"], "unsupported_format");
    assert!(!failed["error"]["message"].as_str().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn exit_status_zero_when_all_succeed_and_names_never_collide() {
    let dir = out_dir("ok");
    // The same stem twice, and a JPEG whose name says PNG: content decides, names stay apart.
    let disguised = dir.with_extension("in");
    std::fs::create_dir_all(&disguised).unwrap();
    let fake_png = disguised.join("china.png");
    std::fs::copy(sample("china.jpg"), &fake_png).unwrap();
    let output = photopipe(&[
        "thumbnail",
        "--json",
        "--jobs",
        "1",
        "--format",
        "webp",
        "--out-dir",
        dir.to_str().unwrap(),
        &sample("china.jpg"),
        fake_png.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut outputs: Vec<String> = json_lines(&output)
        .iter()
        .map(|l| l["output"].as_str().unwrap().to_string())
        .collect();
    outputs.sort();
    assert_eq!(
        outputs,
        [dir.join("china-2.webp"), dir.join("china.webp")].map(|p| p.display().to_string())
    );
    for path in outputs {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP");
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(disguised);
}

#[test]
fn usage_errors_exit_with_two() {
    for args in [
        vec!["thumbnail", "--out-dir", "x"], // no input
        vec!["thumbnail", "--quality", "0", "--out-dir", "x", "a.jpg"], // quality out of range
        vec!["thumbnail", "--format", "gif", "--out-dir", "x", "a.jpg"], // unknown format
        vec!["thumbnail", "a.jpg"],          // no --out-dir
    ] {
        assert_eq!(photopipe(&args).status.code(), Some(2), "{args:?}");
    }
}
