//! The catalog in SQL: `file_upload_catalog` in a SQLite file (the default: nothing to
//! install) or in MySQL/MariaDB by URL, through sqlx.
//!
//! It sends the pipeline crate's statements ([`photopipe_pipeline::sql`]) — the very text
//! the RDS Data API adapter sends to Aurora MySQL — with the `:name` parameters rewritten as
//! `?` and bound in order. One code path serves both engines (sqlx's `Any` driver), chosen
//! by the URL's scheme: `sqlite:` or `mysql://` / `mariadb://`.
//!
//! **Typing.** Integers are bound as `i64` (the columns are `BIGINT`/`INT`, SQLite
//! `INTEGER`). Dates and times are bound as their text (`YYYY-MM-DD`, `HH:MM:SS`,
//! `YYYY-MM-DD HH:MM:SS`): MySQL converts it into its `DATE`, `TIME` and `DATETIME`
//! columns (rejecting malformed values in its default strict mode) without any session
//! time zone, and SQLite stores it as declared, `TEXT`. Reads `CAST` them back to text.
//!
//! **Migrations** are the pipeline crate's files for the engine, applied in order and
//! recorded in `schema_migrations`; each file is re-runnable, so two processes migrating at
//! once are harmless and running them twice is a no-op.
//!
//! **Errors.** Those a retry can cure — no connection, a pool timeout, a lost connection,
//! a server shutting down, a deadlock or lock wait, a busy SQLite file — are
//! [`PortError::Transient`], so the state machine retries while a database restarts; the
//! rest are [`PortError::Permanent`].

use photopipe_pipeline::model::CatalogRow;
use photopipe_pipeline::ports::{Catalog, CatalogOrder, Direction, InsertOutcome, PortError};
use photopipe_pipeline::sql::{self, Dialect, SqlValue};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::error::DatabaseError;
use sqlx::mysql::MySqlDatabaseError;
use sqlx::sqlite::SqliteError;
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a statement waits for a connection: short, so a database that is down fails
/// the step quickly and the state machine's backoff does the waiting.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Set on every SQLite connection. WAL: the website's reads never wait for the pipeline's
/// writes. A writer waits up to 5 s for another's lock before answering `SQLITE_BUSY`.
/// `synchronous = NORMAL` (SQLite's advice for WAL): commits survive a crash of the
/// process; a power loss may drop the last few but never corrupts the file, and commits
/// cost no fsync each.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000";

/// The catalog over a sqlx connection pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqlCatalog {
    pool: AnyPool,
    dialect: Dialect,
}

impl SqlCatalog {
    /// Connects to `url` and applies the migrations: `sqlite:PATH` or `sqlite://PATH`
    /// (add `?mode=rwc` to create the file; see [`SqlCatalog::open_sqlite`]),
    /// `mysql://user:password@host:port/database` or `mariadb://…`.
    pub async fn connect(url: &str) -> Result<Self, PortError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        let dialect = match scheme {
            "sqlite" => Dialect::Sqlite,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => {
                return Err(PortError::Permanent(format!(
                    "unsupported database URL scheme {scheme:?}: use sqlite: or mysql://"
                )))
            }
        };
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)
            .map_err(|err| db_error("invalid database URL", err))?;
        let pool = AnyPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        sqlite_pragmas(connection).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|err| db_error("cannot connect to the catalog database", err))?;
        let catalog = SqlCatalog { pool, dialect };
        catalog.migrate().await?;
        Ok(catalog)
    }

    /// The SQLite file at `path`, created if missing, with the migrations applied.
    pub async fn open_sqlite(path: &Path) -> Result<Self, PortError> {
        Self::connect(&sqlite_url(path)?).await
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies the migrations not yet recorded in `schema_migrations`; returns their
    /// versions. [`SqlCatalog::connect`] already did; running it again is harmless.
    pub async fn migrate(&self) -> Result<Vec<u32>, PortError> {
        // One connection for all of it: the pool hands a released connection back in a task
        // of its own, so statement after statement through the pool would open a new one
        // each time the last is not back yet (three SQLite opens for a new catalog).
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(|err| db_error("migrating the catalog", err))?;
        migrate(&mut connection, self.dialect).await
    }

    /// Closes the pool's connections (e.g. before a test drops its database).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The catalog rows `statement` selects.
    async fn fetch(
        &self,
        statement: &str,
        params: &[(&str, SqlValue)],
    ) -> Result<Vec<CatalogRow>, PortError> {
        let failed = |err| db_error("reading the catalog", err);
        let (sql, values) = positional(statement, params)?;
        let rows = bind(sqlx::query(&sql), values)
            .fetch_all(&self.pool)
            .await
            .map_err(failed)?;
        rows.iter()
            .map(|row| catalog_row(row).map_err(failed))
            .collect()
    }
}

impl Catalog for SqlCatalog {
    async fn insert_idempotent(&self, row: &CatalogRow) -> Result<InsertOutcome, PortError> {
        let params = sql::insert_params(row);
        let (sql, values) = positional(sql::INSERT_ROW, &params)?;
        // A new row is stored exactly as given (the tests read rows back to hold this to
        // it), so only its id is new; an existing one is read back: it may differ in all
        // but its idempotency key (another execution's name, a later processing time).
        let inserted = match bind(sqlx::query(&sql), values).execute(&self.pool).await {
            Ok(result) => match result.last_insert_id() {
                Some(id) => {
                    return Ok(InsertOutcome::Inserted(CatalogRow {
                        id: Some(id),
                        ..row.clone()
                    }))
                }
                None => true,
            },
            Err(err) if is_duplicate_key(&err) => false,
            Err(err) => return Err(db_error("inserting into the catalog", err)),
        };
        let stored = self
            .by_idempotency_key(&row.idempotency_key)
            .await?
            .ok_or_else(|| {
                PortError::Permanent(format!(
                    "catalog row {} vanished right after its insert",
                    row.idempotency_key
                ))
            })?;
        Ok(if inserted {
            InsertOutcome::Inserted(stored)
        } else {
            InsertOutcome::AlreadyPresent(stored)
        })
    }

    async fn list(
        &self,
        order: CatalogOrder,
        direction: Direction,
        limit: u32,
    ) -> Result<Vec<CatalogRow>, PortError> {
        let params = [("limit", SqlValue::Int(limit.into()))];
        self.fetch(sql::list_statement(order, direction), &params)
            .await
    }

    async fn by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<CatalogRow>, PortError> {
        let params = [(
            "idempotency_key",
            SqlValue::Text(idempotency_key.to_owned()),
        )];
        let rows = self.fetch(sql::SELECT_BY_IDEMPOTENCY_KEY, &params).await?;
        Ok(rows.into_iter().next())
    }
}

/// The database URL of the SQLite file at `path`, created if missing.
pub fn sqlite_url(path: &Path) -> Result<String, PortError> {
    let path = path
        .to_str()
        .ok_or_else(|| PortError::Permanent(format!("{}: not a UTF-8 path", path.display())))?;
    // `?` and `#` would end the path part of the URL.
    let path = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok(format!("sqlite://{path}?mode=rwc"))
}

async fn sqlite_pragmas(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    connection.execute(SQLITE_PRAGMAS).await.map(drop)
}

/// Applies the migrations not yet recorded in `schema_migrations` over `connection`. Through
/// the `Executor` methods, whose futures are boxed: the statements' own `execute` is generic
/// over the executor, which leaves the caller's future not provably `Send`.
async fn migrate(connection: &mut AnyConnection, dialect: Dialect) -> Result<Vec<u32>, PortError> {
    let failed = |err| db_error("migrating the catalog", err);
    // Portable DDL: SQLite accepts MySQL's type names.
    connection
        .execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, \
             description VARCHAR(255) NOT NULL, applied_at VARCHAR(32) NOT NULL)",
        ))
        .await
        .map_err(failed)?;
    let applied = connection
        .fetch_all(sqlx::query("SELECT version FROM schema_migrations"))
        .await
        .map_err(failed)?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let mut newly = Vec::new();
    for migration in sql::migrations(dialect) {
        if applied.contains(&i64::from(migration.version)) {
            continue;
        }
        // One statement per call, as the Data API runs them.
        for statement in migration.statements() {
            connection
                .execute(sqlx::raw_sql(statement))
                .await
                .map_err(failed)?;
        }
        let record = sqlx::query(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
        )
        .bind(i64::from(migration.version))
        .bind(migration.description)
        .bind(now_text());
        match connection.execute(record).await {
            Ok(_) => newly.push(migration.version),
            // Another process applied it meanwhile: the files are re-runnable.
            Err(err) if is_duplicate_key(&err) => {}
            Err(err) => return Err(failed(err)),
        }
    }
    Ok(newly)
}

/// `statement` with `?` placeholders, and its values in placeholder order.
fn positional<'p>(
    statement: &str,
    params: &'p [(&str, SqlValue)],
) -> Result<(String, Vec<&'p SqlValue>), PortError> {
    let (sql, names) = sql::to_positional(statement);
    let values = names
        .iter()
        .map(|name| {
            params
                .iter()
                .find(|(param, _)| param == name)
                .map(|(_, value)| value)
                .ok_or_else(|| PortError::Permanent(format!("no value for parameter :{name}")))
        })
        .collect::<Result<_, _>>()?;
    Ok((sql, values))
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds integers as `i64` and everything else, dates and times included, as text (see the
/// module's notes on typing).
fn bind<'q>(mut query: AnyQuery<'q>, values: Vec<&SqlValue>) -> AnyQuery<'q> {
    for value in values {
        query = match value {
            SqlValue::Int(int) => query.bind(*int),
            SqlValue::Text(text)
            | SqlValue::Date(text)
            | SqlValue::Time(text)
            | SqlValue::Timestamp(text) => query.bind(text.clone()),
        };
    }
    query
}

fn catalog_row(row: &AnyRow) -> Result<CatalogRow, sqlx::Error> {
    let text = |column: &str| row.try_get::<String, _>(column);
    Ok(CatalogRow {
        id: Some(row.try_get("id")?),
        upload_date: text("upload_date")?,
        upload_time: text("upload_time")?,
        file_name: text("file_name")?,
        original_size: unsigned(row, "original_size")?,
        thumbnail_size: unsigned(row, "thumbnail_size")?,
        bucket: text("bucket")?,
        object_key: text("object_key")?,
        idempotency_key: text("idempotency_key")?,
        original_width: unsigned(row, "original_width")?,
        original_height: unsigned(row, "original_height")?,
        thumbnail_width: unsigned(row, "thumbnail_width")?,
        thumbnail_height: unsigned(row, "thumbnail_height")?,
        original_format: text("original_format")?,
        thumbnail_format: text("thumbnail_format")?,
        thumbnail_key: text("thumbnail_key")?,
        execution_name: text("execution_name")?,
        processing_ms: unsigned(row, "processing_ms")?,
        created_at: text("created_at")?,
    })
}

/// A column the application only ever writes from unsigned values.
fn unsigned<T: TryFrom<i64>>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    T::try_from(value).map_err(|_| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{value} is out of range").into(),
    })
}

/// MySQL 1062 and SQLite `SQLITE_CONSTRAINT_UNIQUE`, as sqlx recognises them.
fn is_duplicate_key(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn db_error(what: &str, err: sqlx::Error) -> PortError {
    let transient = match &err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(mysql) = db.try_downcast_ref::<MySqlDatabaseError>() {
                // Too many connections, server shutdown, lock wait timeout, deadlock, query
                // interrupted (shutdown), connection killed (MariaDB), client-side "can't
                // connect" / "gone away" / "lost connection", idle disconnect (MySQL 8).
                matches!(
                    mysql.number(),
                    1040 | 1053 | 1205 | 1213 | 1317 | 1927 | 2002 | 2003 | 2006 | 2013 | 4031
                )
            } else if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
                // Extended codes carry the primary one in their low byte: BUSY, LOCKED,
                // IOERR, FULL.
                let primary = sqlite.code().and_then(|code| code.parse::<i32>().ok());
                matches!(primary.map(|code| code & 0xff), Some(5 | 6 | 10 | 13))
            } else {
                false
            }
        }
        _ => false,
    };
    let message = format!("{what}: {err}");
    if transient {
        PortError::Transient(message)
    } else {
        PortError::Permanent(message)
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, for `schema_migrations.applied_at`.
fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .expect("a UTC time formats")
}
