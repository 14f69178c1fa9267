//! [`Catalog`] through the RDS Data API: `file_upload_catalog` in Aurora MySQL (Serverless
//! v2), reached over HTTPS with IAM and a Secrets Manager secret, so no Lambda needs a VPC
//! or a connection pool.
//!
//! It sends the pipeline crate's statements ([`photopipe_pipeline::sql`]) as they are, with
//! `:name` parameters. Parameters are typed: integers as `longValue`, text as
//! `stringValue`, and dates, times and timestamps as strings with the `DATE`, `TIME` and
//! `TIMESTAMP` type hints — without them MySQL would receive plain strings and convert
//! them under the session's rules. Rows come back with `formatRecordsAs: JSON`, one object
//! per row keyed by column label, which deserializes straight into a [`CatalogRow`] (the
//! statements `CAST` the temporal columns to text for exactly this).
//!
//! A duplicate idempotency key is MySQL error 1062, which the Data API reports as a
//! `BadRequestException` (or, on the newer Data API, a `DatabaseErrorException`) whose
//! message holds `Duplicate entry`: the row is then read back, as the port asks.
//! `DatabaseResumingException`, the answer of a cluster scaled to zero while it wakes up
//! (15–30 s), is transient like throttling (see [`crate::classify`]).

use crate::classify::port_error;
use aws_config::SdkConfig;
use aws_sdk_rdsdata::operation::execute_statement::builders::ExecuteStatementFluentBuilder;
use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::{Field, RecordsFormatType, SqlParameter, TypeHint};
use aws_sdk_rdsdata::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use photopipe_pipeline::model::CatalogRow;
use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::sql::{self, Dialect, SqlValue};
use photopipe_pipeline::{Catalog, InsertOutcome, PortError};
use serde::Deserialize;

/// Which database the statements run in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataApiTarget {
    /// The Aurora cluster's ARN (`DB_CLUSTER_ARN`).
    pub resource_arn: String,
    /// The Secrets Manager secret holding the database credentials (`DB_SECRET_ARN`).
    pub secret_arn: String,
    /// The schema (`DB_NAME`).
    pub database: String,
}

/// The catalog table behind the Data API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DataApiCatalog {
    client: Client,
    target: DataApiTarget,
}

/// Where applied migrations are recorded (the same table the local SQL adapter keeps).
const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
version BIGINT NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL, \
applied_at VARCHAR(32) NOT NULL)";
const SELECT_MIGRATIONS: &str = "SELECT version FROM schema_migrations";
const INSERT_MIGRATION: &str = "INSERT INTO schema_migrations (version, description, \
applied_at) VALUES (:version, :description, :applied_at)";

impl DataApiCatalog {
    pub fn new(config: &SdkConfig, target: DataApiTarget) -> Self {
        DataApiCatalog {
            client: Client::new(config),
            target,
        }
    }

    /// Over an already built client: a test pointing this one client at an endpoint of its
    /// own (`tests/data_api.rs`: the Data API stand-in, while S3 and the rest go to moto).
    pub fn from_client(client: Client, target: DataApiTarget) -> Self {
        DataApiCatalog { client, target }
    }

    /// Where the statements run.
    pub fn target(&self) -> &DataApiTarget {
        &self.target
    }

    /// `ExecuteStatement` of `sql` with typed `params`, rows as JSON.
    pub fn statement(
        &self,
        sql: &str,
        params: Vec<(&str, SqlValue)>,
    ) -> ExecuteStatementFluentBuilder {
        self.client
            .execute_statement()
            .resource_arn(&self.target.resource_arn)
            .secret_arn(&self.target.secret_arn)
            .database(&self.target.database)
            .sql(sql)
            .set_parameters(Some(params.into_iter().map(sql_parameter).collect()))
            .format_records_as(RecordsFormatType::Json)
    }

    async fn execute(
        &self,
        doing: &str,
        sql: &str,
        params: Vec<(&str, SqlValue)>,
    ) -> Result<ExecuteStatementOutput, PortError> {
        self.statement(sql, params)
            .send()
            .await
            .map_err(|e| port_error(doing, &e))
    }

    async fn query<T: for<'de> Deserialize<'de>>(
        &self,
        doing: &str,
        sql: &str,
        params: Vec<(&str, SqlValue)>,
    ) -> Result<Vec<T>, PortError> {
        let output = self.execute(doing, sql, params).await?;
        rows(output.formatted_records.as_deref())
            .map_err(|e| PortError::Permanent(format!("{doing}: unexpected rows: {e}")))
    }

    /// The row just written, or found in the way, under `idempotency_key`.
    async fn stored(&self, idempotency_key: &str) -> Result<CatalogRow, PortError> {
        self.by_idempotency_key(idempotency_key)
            .await?
            .ok_or_else(|| {
                PortError::Permanent(format!(
                    "the catalog row {idempotency_key:?} was written but cannot be read back"
                ))
            })
    }

    /// Applies the MySQL migrations not yet recorded in `schema_migrations`, one statement
    /// per call (the Data API runs one at a time); returns the versions applied. Every
    /// migration file is re-runnable, so concurrent cold starts migrating at once are
    /// harmless, and a second run is three cheap calls.
    pub async fn migrate(&self) -> Result<Vec<u32>, PortError> {
        const DOING: &str = "migrating the catalog";
        self.execute(DOING, CREATE_SCHEMA_MIGRATIONS, Vec::new())
            .await?;
        #[derive(Deserialize)]
        struct Applied {
            version: i64,
        }
        let applied: Vec<Applied> = self.query(DOING, SELECT_MIGRATIONS, Vec::new()).await?;
        let mut newly = Vec::new();
        for migration in sql::migrations(Dialect::MySql) {
            if applied
                .iter()
                .any(|a| a.version == i64::from(migration.version))
            {
                continue;
            }
            for statement in migration.statements() {
                self.execute(DOING, statement, Vec::new()).await?;
            }
            let recorded = self
                .statement(
                    INSERT_MIGRATION,
                    vec![
                        ("version", SqlValue::Int(migration.version.into())),
                        ("description", SqlValue::Text(migration.description.into())),
                        ("applied_at", SqlValue::Text(now_text())),
                    ],
                )
                .send()
                .await;
            match recorded {
                Ok(_) => newly.push(migration.version),
                // Another container applied it meanwhile.
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(port_error(DOING, &e)),
            }
        }
        Ok(newly)
    }
}

/// One typed Data API parameter.
fn sql_parameter((name, value): (&str, SqlValue)) -> SqlParameter {
    let (field, hint) = match value {
        SqlValue::Int(n) => (Field::LongValue(n), None),
        SqlValue::Text(text) => (Field::StringValue(text), None),
        SqlValue::Date(date) => (Field::StringValue(date), Some(TypeHint::Date)),
        SqlValue::Time(time) => (Field::StringValue(time), Some(TypeHint::Time)),
        SqlValue::Timestamp(ts) => (Field::StringValue(ts), Some(TypeHint::Timestamp)),
    };
    SqlParameter::builder()
        .name(name)
        .value(field)
        .set_type_hint(hint)
        .build()
}

/// The rows of a `formatRecordsAs: JSON` answer (absent for a statement without rows).
fn rows<T: for<'de> Deserialize<'de>>(
    formatted: Option<&str>,
) -> Result<Vec<T>, serde_json::Error> {
    formatted.map_or(Ok(Vec::new()), serde_json::from_str)
}

/// MySQL's 1062 as the Data API reports it.
fn is_duplicate_key<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().is_some_and(|e| {
        matches!(
            e.code(),
            Some("BadRequestException" | "DatabaseErrorException")
        ) && e.message().is_some_and(|m| m.contains("Duplicate entry"))
    })
}

/// `YYYY-MM-DD HH:MM:SS` UTC, for `schema_migrations.applied_at`.
fn now_text() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .expect("a UTC time formats")
}

impl Catalog for DataApiCatalog {
    async fn insert_idempotent(&self, row: &CatalogRow) -> Result<InsertOutcome, PortError> {
        let inserted = self
            .statement(sql::INSERT_ROW, sql::insert_params(row))
            .send()
            .await;
        match inserted {
            Ok(output) => {
                // MySQL reports the AUTO_INCREMENT id as the generated field.
                let id = output
                    .generated_fields
                    .iter()
                    .flatten()
                    .find_map(|field| match field {
                        Field::LongValue(id) => Some(*id),
                        _ => None,
                    });
                match id {
                    Some(id) => Ok(InsertOutcome::Inserted(CatalogRow {
                        id: Some(id),
                        ..row.clone()
                    })),
                    None => self
                        .stored(&row.idempotency_key)
                        .await
                        .map(InsertOutcome::Inserted),
                }
            }
            Err(e) if is_duplicate_key(&e) => self
                .stored(&row.idempotency_key)
                .await
                .map(InsertOutcome::AlreadyPresent),
            Err(e) => Err(port_error(
                &format!("inserting the catalog row {:?}", row.idempotency_key),
                &e,
            )),
        }
    }

    async fn list(
        &self,
        order: CatalogOrder,
        direction: Direction,
        limit: u32,
    ) -> Result<Vec<CatalogRow>, PortError> {
        self.query(
            "listing the catalog",
            sql::list_statement(order, direction),
            vec![("limit", SqlValue::Int(limit.into()))],
        )
        .await
    }

    async fn by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<CatalogRow>, PortError> {
        let rows: Vec<CatalogRow> = self
            .query(
                "reading a catalog row",
                sql::SELECT_BY_IDEMPOTENCY_KEY,
                vec![("idempotency_key", SqlValue::Text(idempotency_key.into()))],
            )
            .await?;
        Ok(rows.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rdsdata::config::{BehaviorVersion, Region};

    fn catalog() -> DataApiCatalog {
        // A client that is never sent anything: these tests look at the request only.
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        DataApiCatalog::new(
            &config,
            DataApiTarget {
                resource_arn: "arn:aws:rds:eu-west-1:123456789012:cluster:catalog".into(),
                secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db".into(),
                database: "photopipe".into(),
            },
        )
    }

    fn row() -> CatalogRow {
        CatalogRow {
            id: None,
            upload_date: "2024-05-01".into(),
            upload_time: "10:00:00".into(),
            file_name: "cat's photo.jpg".into(),
            original_size: 2_483_204,
            thumbnail_size: 18_342,
            bucket: "uploads".into(),
            object_key: "2024/05/cat's photo.jpg".into(),
            idempotency_key: "uploads/2024/05/cat.jpg@9b2c".into(),
            original_width: 4032,
            original_height: 3024,
            thumbnail_width: 256,
            thumbnail_height: 192,
            original_format: "jpeg".into(),
            thumbnail_format: "jpeg".into(),
            thumbnail_key: "thumbnails/cat.jpg".into(),
            execution_name: "upload-cat".into(),
            processing_ms: 1234,
            created_at: "2024-05-01 10:00:01".into(),
        }
    }

    #[test]
    fn the_insert_sends_typed_parameters_with_temporal_type_hints() {
        let catalog = catalog();
        let request = catalog.statement(sql::INSERT_ROW, sql::insert_params(&row()));
        let input = request.as_input();
        assert_eq!(input.get_sql().as_deref(), Some(sql::INSERT_ROW));
        assert_eq!(
            input.get_resource_arn().as_deref(),
            Some("arn:aws:rds:eu-west-1:123456789012:cluster:catalog")
        );
        assert_eq!(
            input.get_secret_arn().as_deref(),
            Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db")
        );
        assert_eq!(input.get_database().as_deref(), Some("photopipe"));
        assert_eq!(
            input.get_format_records_as(),
            &Some(RecordsFormatType::Json)
        );

        let params = input.get_parameters().as_ref().expect("parameters");
        let param = |name: &str| {
            let found = params
                .iter()
                .find(|p| p.name() == Some(name))
                .unwrap_or_else(|| panic!("no parameter {name}"));
            (found.value().cloned(), found.type_hint().cloned())
        };
        let text = |s: &str| Some(Field::StringValue(s.into()));
        assert_eq!(
            param("upload_date"),
            (text("2024-05-01"), Some(TypeHint::Date))
        );
        assert_eq!(
            param("upload_time"),
            (text("10:00:00"), Some(TypeHint::Time))
        );
        assert_eq!(
            param("created_at"),
            (text("2024-05-01 10:00:01"), Some(TypeHint::Timestamp))
        );
        assert_eq!(param("file_name"), (text("cat's photo.jpg"), None));
        assert_eq!(
            param("original_size"),
            (Some(Field::LongValue(2_483_204)), None)
        );
        assert_eq!(
            param("thumbnail_size"),
            (Some(Field::LongValue(18_342)), None)
        );
        assert_eq!(
            param("thumbnail_width"),
            (Some(Field::LongValue(256)), None)
        );
        // Every :name of the statement has exactly one parameter, and nothing else is sent.
        let (_, names) = sql::to_positional(sql::INSERT_ROW);
        let mut sent: Vec<&str> = params.iter().filter_map(|p| p.name()).collect();
        let mut expected = names.clone();
        sent.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sent, expected);
    }

    #[test]
    fn listings_bind_the_limit_as_an_integer() {
        let catalog = catalog();
        let request = catalog.statement(
            sql::SELECT_SMALLEST_THUMBNAILS,
            vec![("limit", SqlValue::Int(5))],
        );
        let params = request.as_input().get_parameters().clone().unwrap();
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].value(), Some(&Field::LongValue(5)));
        assert_eq!(params[0].type_hint(), None);
    }

    #[test]
    fn json_records_deserialize_into_catalog_rows() {
        let formatted = r#"[{"upload_date":"2024-05-01","upload_time":"10:00:00",
            "file_name":"cat's photo.jpg","original_size":2483204,"thumbnail_size":18342,
            "id":7,"bucket":"uploads","object_key":"2024/05/cat's photo.jpg",
            "idempotency_key":"uploads/2024/05/cat.jpg@9b2c","original_width":4032,
            "original_height":3024,"thumbnail_width":256,"thumbnail_height":192,
            "original_format":"jpeg","thumbnail_format":"jpeg",
            "thumbnail_key":"thumbnails/cat.jpg","execution_name":"upload-cat",
            "processing_ms":1234,"created_at":"2024-05-01 10:00:01"}]"#;
        let parsed: Vec<CatalogRow> = rows(Some(formatted)).unwrap();
        assert_eq!(
            parsed,
            vec![CatalogRow {
                id: Some(7),
                ..row()
            }]
        );
        assert!(rows::<CatalogRow>(None).unwrap().is_empty());
    }

    #[test]
    fn a_duplicate_entry_is_recognised_in_both_data_api_spellings() {
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let error = |code: &str, message: &str| -> SdkError<ErrorMetadata, HttpResponse> {
            SdkError::service_error(
                ErrorMetadata::builder().code(code).message(message).build(),
                HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
            )
        };
        let duplicate = "Duplicate entry 'uploads/cat.jpg@9b2c' for key 'uq_file_upload_catalog_idempotency_key'";
        assert!(is_duplicate_key(&error("BadRequestException", duplicate)));
        assert!(is_duplicate_key(&error(
            "DatabaseErrorException",
            duplicate
        )));
        assert!(!is_duplicate_key(&error(
            "BadRequestException",
            "Unknown column 'x'"
        )));
        assert!(!is_duplicate_key(&error(
            "DatabaseResumingException",
            "resuming"
        )));
    }
}
