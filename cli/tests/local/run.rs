//! `photopipe run` through the real binary: with several uploads in flight the outcomes still
//! come in the order of the files given, and a file over the upload limit is refused by name
//! before anything of it is stored.

use crate::support::*;
use serde_json::Value;

/// Sample uploads and the start of each one's execution name (the key, made name-safe).
const SAMPLES: [(&str, &str, bool); 6] = [
    ("green meadow.jpg", "green_meadow.jpg-", true),
    ("empty.jpg", "empty.jpg-", false),
    ("china.jpg", "china.jpg-", true),
    ("notes.txt", "notes.txt-", false),
    (
        "fallen leaf (transparent).png",
        "fallen_leaf_transparent_.png-",
        true,
    ),
    ("flower.jpg", "flower.jpg-", true),
];

#[test]
fn outcomes_come_in_the_order_given_whatever_the_jobs() {
    for jobs in ["1", "3"] {
        let data_dir = tempdir::TempDir::new();
        let files: Vec<String> = SAMPLES
            .iter()
            .map(|(name, _, _)| {
                repo_root()
                    .join("upload_files")
                    .join(name)
                    .display()
                    .to_string()
            })
            .collect();
        let mut args = vec!["run", "--jobs", jobs, "--json"];
        args.extend(files.iter().map(String::as_str));
        let run = photopipe(&args, data_dir.path());
        // Two uploads are not photos: the run says so in its exit code.
        assert_eq!(run.code, 1, "--jobs {jobs}: {}{}", run.stdout, run.stderr);
        let outcomes: Vec<Value> = run
            .stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON outcome a line"))
            .collect();
        assert_eq!(
            outcomes.len(),
            SAMPLES.len(),
            "--jobs {jobs}: {}",
            run.stdout
        );
        for (outcome, (name, execution, ok)) in outcomes.iter().zip(SAMPLES) {
            assert_eq!(outcome["ok"], ok, "--jobs {jobs}, {name}: {outcome}");
            assert!(
                outcome["execution"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(execution)),
                "--jobs {jobs}: {name} answered by {outcome}"
            );
        }
    }
}

#[test]
fn a_file_over_the_upload_limit_is_refused_by_name_and_not_stored() {
    let data_dir = tempdir::TempDir::new();
    let config = data_dir.path().join("limits.toml");
    std::fs::write(&config, "max_input_bytes = 1000\n").expect("config");
    let photo = repo_root().join("upload_files").join("china.jpg");
    let photo = photo.display().to_string();
    let config = config.display().to_string();
    let run = photopipe(&["run", "--config", &config, &photo], data_dir.path());
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{photo} is over the upload limit of 1000 bytes")),
        "{}",
        run.stderr
    );
    let input = data_dir.path().join("input");
    let stored: Vec<_> = std::fs::read_dir(&input)
        .map(|entries| {
            entries
                .map(|entry| entry.expect("entry").file_name())
                .collect()
        })
        .unwrap_or_default();
    assert!(stored.is_empty(), "left in input/: {stored:?}");
}

#[test]
fn zero_jobs_is_refused() {
    let data_dir = tempdir::TempDir::new();
    let run = photopipe(
        &["run", "--jobs", "0", "upload_files/china.jpg"],
        data_dir.path(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--jobs"), "{}", run.stderr);
}

#[test]
fn files_of_the_same_name_each_get_their_own_execution() {
    let data_dir = tempdir::TempDir::new();
    let samples = repo_root().join("upload_files");
    let (first, second) = (data_dir.path().join("a"), data_dir.path().join("b"));
    for (dir, sample) in [(&first, "china.jpg"), (&second, "flower.jpg")] {
        std::fs::create_dir_all(dir).expect("folder");
        std::fs::copy(samples.join(sample), dir.join("photo.jpg")).expect("copy");
    }
    let files =
        [first.join("photo.jpg"), second.join("photo.jpg")].map(|f| f.display().to_string());
    let run = photopipe(
        &["run", "--jobs", "2", "--json", &files[0], &files[1]],
        data_dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let sizes: Vec<u64> = run
        .stdout
        .lines()
        .map(|line| {
            let outcome: Value = serde_json::from_str(line).expect("JSON outcome");
            outcome["catalog"]["original_size"]
                .as_u64()
                .expect("a catalog row")
        })
        .collect();
    let expected = ["china.jpg", "flower.jpg"].map(|sample| sample_size(&samples.join(sample)));
    // Each row describes its own file: the second was not stored over the first mid-run.
    assert_eq!(sizes, expected);
}

fn sample_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).expect("sample").len()
}
