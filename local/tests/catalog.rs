//! SqlCatalog on a SQLite file and on a real MariaDB: every Catalog method, the assignment's
//! "five smallest thumbnails" query, idempotency, hostile file names, migrations.
//!
//! MariaDB: `PHOTOPIPE_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`); each test
//! creates its own `photopipe_test_<unique>` database and drops it at the end. An
//! unreachable server fails the test, unless `PHOTOPIPE_SKIP_MYSQL=1`.

mod common;

use common::{unique, TempDir};
use photopipe_local::catalog::sqlite_url;
use photopipe_local::SqlCatalog;
use photopipe_pipeline::model::CatalogRow;
use photopipe_pipeline::ports::{Catalog, CatalogOrder, Direction, InsertOutcome, PortError};
use photopipe_pipeline::sql::{list_statement, to_positional, Dialect};
use sqlx::{Connection, Executor, Row};
use std::future::Future;

fn row(n: u32, file_name: &str, thumbnail_size: u64) -> CatalogRow {
    CatalogRow {
        id: None,
        upload_date: format!("2024-05-{:02}", 1 + n % 28),
        upload_time: format!("{:02}:{:02}:{:02}", n % 24, (n * 7) % 60, (n * 13) % 60),
        file_name: file_name.to_owned(),
        original_size: 1_000_000 + u64::from(n) * 1_234,
        thumbnail_size,
        bucket: "input".to_owned(),
        object_key: format!("uploads/{file_name}"),
        idempotency_key: format!("{n:064x}"),
        original_width: 4000 + n,
        original_height: 3000 + n,
        thumbnail_width: 200,
        thumbnail_height: 150,
        original_format: "jpeg".to_owned(),
        thumbnail_format: "jpeg".to_owned(),
        thumbnail_key: format!("thumbnails/photo-{n}.jpg"),
        execution_name: format!("photo-{n}-0123456789abcdef"),
        processing_ms: 150 + u64::from(n),
        created_at: format!("2024-05-{:02} 23:59:{:02}", 1 + n % 28, n % 60),
    }
}

/// `row` as the database should give it back: with an id.
fn stored(row: &CatalogRow, got: &CatalogRow) -> CatalogRow {
    assert!(got.id.is_some_and(|id| id > 0), "{got:?}");
    CatalogRow {
        id: got.id,
        ..row.clone()
    }
}

fn inserted(outcome: InsertOutcome) -> CatalogRow {
    match outcome {
        InsertOutcome::Inserted(row) => row,
        other => panic!("expected a new row, got {other:?}"),
    }
}

async fn smallest_five(catalog: SqlCatalog, _url: String) {
    let sizes = [9_000, 1_200, 45_000, 800, 3_300, 800, 12_000, 150_000];
    let rows: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(n, &size)| row(n as u32, &format!("photo {n}.jpg"), size))
        .collect();
    for row in &rows {
        inserted(catalog.insert_idempotent(row).await.unwrap());
    }
    let smallest = catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Asc, 5)
        .await
        .unwrap();
    // Ties (two 800s) are broken by id, i.e. insertion order.
    let expected = [3, 5, 1, 4, 0];
    assert_eq!(smallest.len(), 5);
    for (got, &n) in smallest.iter().zip(&expected) {
        let want = &rows[n];
        assert_eq!(
            (
                &got.upload_date,
                &got.upload_time,
                &got.file_name,
                got.original_size,
                got.thumbnail_size
            ),
            (
                &want.upload_date,
                &want.upload_time,
                &want.file_name,
                want.original_size,
                want.thumbnail_size
            )
        );
        assert_eq!(got, &stored(want, got));
    }
    assert_eq!(smallest[0].upload_date, "2024-05-04");
    assert_eq!(smallest[0].upload_time, "03:21:39");

    let largest = catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Desc, 2)
        .await
        .unwrap();
    assert_eq!(
        largest.iter().map(|r| r.thumbnail_size).collect::<Vec<_>>(),
        [150_000, 45_000]
    );
    let by_original = catalog
        .list(CatalogOrder::OriginalSize, Direction::Asc, 100)
        .await
        .unwrap();
    assert_eq!(by_original.len(), rows.len());
    assert!(by_original.is_sorted_by_key(|r| r.original_size));
    let newest = catalog
        .list(CatalogOrder::UploadTime, Direction::Desc, 100)
        .await
        .unwrap();
    assert!(newest
        .is_sorted_by(|a, b| (&a.upload_date, &a.upload_time) >= (&b.upload_date, &b.upload_time)));
    let oldest = catalog
        .list(CatalogOrder::UploadTime, Direction::Asc, 1)
        .await
        .unwrap();
    assert_eq!(oldest[0], *newest.last().unwrap());
    assert!(catalog
        .list(CatalogOrder::UploadTime, Direction::Asc, 0)
        .await
        .unwrap()
        .is_empty());
}

async fn idempotent_insert(catalog: SqlCatalog, _url: String) {
    let first = row(1, "twice.jpg", 2_000);
    let stored_first = inserted(catalog.insert_idempotent(&first).await.unwrap());
    assert_eq!(stored_first, stored(&first, &stored_first));

    // A retried execution with the same idempotency key but other details.
    let retry = CatalogRow {
        execution_name: "another-execution".to_owned(),
        processing_ms: 99_999,
        ..first.clone()
    };
    match catalog.insert_idempotent(&retry).await.unwrap() {
        InsertOutcome::AlreadyPresent(row) => assert_eq!(row, stored_first),
        other => panic!("expected AlreadyPresent, got {other:?}"),
    }
    let all = catalog
        .list(CatalogOrder::UploadTime, Direction::Asc, 10)
        .await
        .unwrap();
    assert_eq!(all, std::slice::from_ref(&stored_first));
    assert_eq!(
        catalog
            .by_idempotency_key(&first.idempotency_key)
            .await
            .unwrap(),
        Some(stored_first)
    );
    assert_eq!(catalog.by_idempotency_key("missing").await.unwrap(), None);
}

async fn hostile_names_round_trip(catalog: SqlCatalog, _url: String) {
    let names = [
        "it's a \"quoted\" name.jpg",
        "back\\slash\\\\double.jpg",
        "'; DROP TABLE file_upload_catalog; --",
        "Robert'); DROP TABLE schema_migrations;--.jpg",
        "ünïcødé 日本語 📷.jpg",
        "<img src=x onerror=alert(1)>.jpg",
        "percent %s %d :file_name ? $1.jpg",
        "tab\tand\nnewline.jpg",
    ];
    for (n, name) in names.iter().enumerate() {
        let row = row(n as u32, name, 1_000 + n as u64);
        let got = inserted(catalog.insert_idempotent(&row).await.unwrap());
        assert_eq!(got.file_name, *name);
        let read = catalog
            .by_idempotency_key(&row.idempotency_key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, stored(&row, &got));
    }
    let all = catalog
        .list(CatalogOrder::ThumbnailSize, Direction::Asc, 100)
        .await
        .unwrap();
    let read: Vec<_> = all.iter().map(|row| row.file_name.as_str()).collect();
    assert_eq!(read, names);
}

async fn migrations_are_idempotent(catalog: SqlCatalog, _url: String) {
    let row = row(7, "kept.jpg", 10);
    inserted(catalog.insert_idempotent(&row).await.unwrap());
    assert_eq!(catalog.migrate().await.unwrap(), Vec::<u32>::new());
    assert_eq!(catalog.migrate().await.unwrap(), Vec::<u32>::new());
    assert!(catalog
        .by_idempotency_key(&row.idempotency_key)
        .await
        .unwrap()
        .is_some());
}

/// The listings the gallery (newest first, after every upload) and the assignment's query
/// (smallest thumbnails) run read one page of an index and then those rows by primary key:
/// never every row of the table, which made each upload's gallery refresh slower as the
/// catalog grew. Read from each engine's own query plan.
async fn listings_read_a_page_of_an_index(catalog: SqlCatalog, url: String) {
    for n in 0..60 {
        inserted(
            catalog
                .insert_idempotent(&row(n, &format!("p{n}.jpg"), u64::from(n * 37 % 50)))
                .await
                .unwrap(),
        );
    }
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    for order in [CatalogOrder::UploadTime, CatalogOrder::ThumbnailSize] {
        for direction in [Direction::Asc, Direction::Desc] {
            let (sql, _) = to_positional(list_statement(order, direction));
            let explain = match catalog.dialect() {
                Dialect::Sqlite => "EXPLAIN QUERY PLAN",
                Dialect::MySql => "EXPLAIN",
            };
            let plan = sqlx::query(&format!("{explain} {sql}"))
                .bind(5_i64)
                .fetch_all(&mut connection)
                .await
                .unwrap();
            let whole_table_reads: Vec<String> = plan
                .iter()
                .filter_map(|step| match catalog.dialect() {
                    // `SCAN file_upload_catalog` without `USING … INDEX` walks the table itself.
                    Dialect::Sqlite => {
                        let detail: String = step.get("detail");
                        (detail.starts_with("SCAN file_upload_catalog")
                            && !detail.contains("INDEX"))
                        .then_some(detail)
                    }
                    // Access type `ALL` is a full table scan.
                    Dialect::MySql => {
                        let (table, access): (String, String) =
                            (step.get("table"), step.get("type"));
                        (table == "file_upload_catalog" && access == "ALL")
                            .then(|| format!("{table}: {access}"))
                    }
                })
                .collect();
            assert_eq!(
                whole_table_reads,
                Vec::<String>::new(),
                "{order:?} {direction:?}: {sql}"
            );
        }
    }
    connection.close().await.unwrap();
}

/// Runs `test` against a catalog in a fresh SQLite file, with the file's URL.
async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(SqlCatalog, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = TempDir::new();
    let path = dir.path().join("catalog #1?.sqlite");
    let catalog = SqlCatalog::open_sqlite(&path).await.unwrap();
    assert_eq!(catalog.dialect(), Dialect::Sqlite);
    test(catalog.clone(), sqlite_url(&path).unwrap()).await;
    // Opening it again finds the schema in place.
    let again = SqlCatalog::open_sqlite(&path).await.unwrap();
    assert_eq!(again.migrate().await.unwrap(), Vec::<u32>::new());
    again.close().await;
    catalog.close().await;
}

/// Runs `test` against a catalog in a fresh MariaDB database, with its URL; the database is
/// dropped afterwards (also when the test panics).
async fn on_mysql<F, Fut>(test: F)
where
    F: FnOnce(SqlCatalog, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = std::env::var("PHOTOPIPE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    sqlx::any::install_default_drivers();
    let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
        Ok(connection) => connection,
        Err(err) if std::env::var("PHOTOPIPE_SKIP_MYSQL").as_deref() == Ok("1") => {
            eprintln!(
                "skipped: MariaDB unreachable at {admin_url} ({err}); PHOTOPIPE_SKIP_MYSQL=1"
            );
            return;
        }
        Err(err) => panic!(
            "MariaDB is unreachable at {admin_url}: {err}. Start it (or point \
             PHOTOPIPE_TEST_MYSQL_URL at one), or set PHOTOPIPE_SKIP_MYSQL=1 to skip"
        ),
    };
    let database = format!("photopipe_test_{}", unique());
    admin
        .execute(format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{database}"));
    let outcome = match SqlCatalog::connect(url.as_str()).await {
        Ok(catalog) => {
            assert_eq!(catalog.dialect(), Dialect::MySql);
            let outcome = tokio::spawn(test(catalog.clone(), url.to_string())).await;
            catalog.close().await;
            outcome.map_err(tokio::task::JoinError::into_panic)
        }
        Err(err) => Err(Box::new(format!("connecting to the test database: {err}")) as _),
    };
    admin
        .execute(format!("DROP DATABASE `{database}`").as_str())
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// One test per backend for each check above.
macro_rules! on_both {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test]
            async fn sqlite() {
                super::on_sqlite(super::$check).await;
            }

            #[tokio::test]
            async fn mariadb() {
                super::on_mysql(super::$check).await;
            }
        }
    )*};
}

on_both!(
    smallest_five,
    idempotent_insert,
    hostile_names_round_trip,
    migrations_are_idempotent,
    listings_read_a_page_of_an_index,
);

#[tokio::test]
async fn sqlite_uses_wal() {
    let dir = TempDir::new();
    let path = dir.path().join("catalog.sqlite");
    let catalog = SqlCatalog::open_sqlite(&path).await.unwrap();
    inserted(
        catalog
            .insert_idempotent(&row(1, "a.jpg", 1))
            .await
            .unwrap(),
    );
    assert!(dir.path().join("catalog.sqlite-wal").exists());
    catalog.close().await;
}

#[tokio::test]
async fn unreachable_database_is_transient() {
    // Nothing listens on port 1.
    let err = SqlCatalog::connect("mysql://root@127.0.0.1:1/photopipe")
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn unknown_scheme_is_permanent() {
    let err = SqlCatalog::connect("postgres://localhost/x")
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Permanent(_)), "{err:?}");
}
