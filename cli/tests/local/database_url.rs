//! A `data-api://` database URL outside `catalog`: the commands that run the local pipeline
//! refuse it with a message naming the commands it is for, and create nothing.

use crate::support::*;
use std::process::Command;

const URL: &str = "data-api://arn:aws:rds:us-east-1:123456789012:cluster:photopipe\
                   ?secret=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf\
                   &database=photopipe";

#[test]
fn the_local_pipeline_refuses_a_data_api_url_and_names_the_commands_it_is_for() {
    let parent = tempdir::TempDir::new();
    let data_dir = parent.path().join("data");
    let photo = repo_root().join("upload_files/flower.jpg");
    let photo = photo.to_str().unwrap();
    let runs: [(&[&str], Option<&str>); 4] = [
        (&["run", "--database-url", URL, photo], None),
        (&["reprocess", "--database-url", URL], None),
        (
            &["serve", "--listen", "127.0.0.1:0", "--database-url", URL],
            None,
        ),
        // From the environment as from the flag.
        (&["serve", "--listen", "127.0.0.1:0"], Some(URL)),
    ];
    for (args, env_url) in runs {
        let mut command = Command::new(env!("CARGO_BIN_EXE_photopipe"));
        command.args(args).arg("--data-dir").arg(&data_dir);
        match env_url {
            Some(url) => command.env("PHOTOPIPE_DATABASE_URL", url),
            None => command.env_remove("PHOTOPIPE_DATABASE_URL"),
        };
        let output = command.output().expect("photopipe runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the RDS Data API is only for `photopipe catalog smallest|list`"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("secret"),
            "{args:?} shows the URL's query: {stderr}"
        );
        assert!(
            !data_dir.exists(),
            "{args:?} created {}",
            data_dir.display()
        );
    }

    // `catalog` still takes data-api:// URLs to the Data API (this one is incomplete, so it
    // fails there, quickly, whether or not the binary has the `aws` feature).
    let output = Command::new(env!("CARGO_BIN_EXE_photopipe"))
        .args([
            "catalog",
            "smallest",
            "--database-url",
            "data-api://cluster",
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .expect("photopipe runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("data-api://"), "{stderr}");
    assert!(!stderr.contains("only for `photopipe catalog"), "{stderr}");
}
