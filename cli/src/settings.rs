//! Where the local pipeline keeps its data and how it reaches its database and mail server,
//! from flags, `PHOTOPIPE_*` environment variables and an optional TOML file, in that order
//! of precedence (the table is in the README).

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "photopipe-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_ALERT_TO: &str = "operations@localhost";
pub const DEFAULT_ALERT_FROM: &str = "photopipe@localhost";

/// The options every local command shares. Each is optional on the command line (clap
/// fills it from the environment too) so the TOML file can supply what is missing.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LocalArgs {
    /// Folder holding the buckets (input/, output/, logs/), outbox/, executions/ and the
    /// SQLite catalog.
    #[arg(long, env = "PHOTOPIPE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Catalog database: sqlite://FILE or mysql://USER:PASSWORD@HOST:PORT/DB (default: SQLite
    /// in the data dir); `catalog` also reads the deployed one through the RDS Data API,
    /// data-api://CLUSTER-ARN?secret=SECRET-ARN&database=DB (built with `--features aws`).
    #[arg(long, env = "PHOTOPIPE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Mail alerts through this server (smtp://HOST:PORT); default: .eml files in outbox/.
    #[arg(long, env = "PHOTOPIPE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Where alerts go.
    #[arg(long, env = "PHOTOPIPE_ALERT_TO")]
    pub alert_to: Option<String>,
    /// A TOML file with any of these settings (keys as the flags, with underscores).
    #[arg(long, env = "PHOTOPIPE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The TOML file's contents.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    smtp_url: Option<String>,
    alert_to: Option<String>,
    alert_from: Option<String>,
    listen: Option<String>,
    max_edge: Option<u32>,
    max_input_bytes: Option<u64>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// `None`: the SQLite file in the data dir.
    pub database_url: Option<String>,
    pub smtp_url: Option<String>,
    pub alert_to: String,
    pub alert_from: String,
    pub listen: Option<String>,
    pub max_edge: Option<u32>,
    /// The largest upload taken (the SAM stack's `MaxInputBytes`).
    pub max_input_bytes: Option<u64>,
    /// Resizes at once (`run --jobs`); `None`: one per core.
    pub resize_jobs: Option<usize>,
}

impl Settings {
    pub fn resolve(args: &LocalArgs, listen: Option<String>) -> Result<Settings, String> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(Settings {
            database_url: args.database_url.clone().or(file.database_url),
            smtp_url: args.smtp_url.clone().or(file.smtp_url),
            alert_to: args
                .alert_to
                .clone()
                .or(file.alert_to)
                .unwrap_or_else(|| DEFAULT_ALERT_TO.into()),
            alert_from: file.alert_from.unwrap_or_else(|| DEFAULT_ALERT_FROM.into()),
            listen: listen.or(file.listen),
            max_edge: file.max_edge,
            max_input_bytes: file.max_input_bytes,
            resize_jobs: None,
            data_dir,
        })
    }
}

impl Settings {
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("catalog.sqlite3")
    }

    /// Where the catalog is, for people (a URL's password is not shown).
    pub fn catalog_location(&self) -> String {
        match &self.database_url {
            None => self.sqlite_path().display().to_string(),
            Some(url) => match url.split_once('@') {
                Some((credentials, rest)) if credentials.contains("://") => {
                    let scheme = credentials.split("://").next().unwrap_or("");
                    format!("{scheme}://…@{rest}")
                }
                _ => url.clone(),
            },
        }
    }
}

fn read_file(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
