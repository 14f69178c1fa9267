use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::sql::{
    insert_params, list_statement, migrations, to_positional, Dialect, SqlValue, INSERT_ROW,
    SELECT_BY_IDEMPOTENCY_KEY, SELECT_SMALLEST_THUMBNAILS,
};
use photopipe_pipeline::CatalogRow;

fn row() -> CatalogRow {
    CatalogRow {
        id: None,
        upload_date: "2024-05-01".into(),
        upload_time: "12:34:56".into(),
        file_name: "a'; DROP TABLE x; --.jpg".into(),
        original_size: 2_345_678,
        thumbnail_size: 12_345,
        bucket: "in".into(),
        object_key: "k".into(),
        idempotency_key: "f".repeat(64),
        original_width: 3000,
        original_height: 2000,
        thumbnail_width: 256,
        thumbnail_height: 171,
        original_format: "jpeg".into(),
        thumbnail_format: "jpeg".into(),
        thumbnail_key: "thumbnails/a.jpg".into(),
        execution_name: "a-1".into(),
        processing_ms: 4500,
        created_at: "2024-05-01 12:35:01".into(),
    }
}

#[test]
fn the_insert_binds_every_column_by_name_and_type() {
    let (positional, names) = to_positional(INSERT_ROW);
    let params = insert_params(&row());
    let param_names: Vec<_> = params.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, param_names, "bound in statement order");
    assert_eq!(names.len(), 18);
    assert_eq!(positional.matches('?').count(), 18);
    assert!(!positional.contains(':'));
    let value = |name: &str| params.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    assert_eq!(value("upload_date"), SqlValue::Date("2024-05-01".into()));
    assert_eq!(value("upload_time"), SqlValue::Time("12:34:56".into()));
    assert_eq!(
        value("created_at"),
        SqlValue::Timestamp("2024-05-01 12:35:01".into())
    );
    assert_eq!(value("thumbnail_size"), SqlValue::Int(12_345));
    // User text is a parameter value, never statement text.
    assert_eq!(
        value("file_name"),
        SqlValue::Text("a'; DROP TABLE x; --.jpg".into())
    );
    assert!(!INSERT_ROW.contains("DROP"));
}

#[test]
fn the_smallest_thumbnails_query_has_the_five_fields_first() {
    assert!(SELECT_SMALLEST_THUMBNAILS.starts_with(
        "SELECT CAST(upload_date AS CHAR) AS upload_date, CAST(upload_time AS CHAR) AS \
         upload_time, file_name, original_size, thumbnail_size, "
    ));
    assert!(SELECT_SMALLEST_THUMBNAILS.ends_with(
        "FROM file_upload_catalog JOIN (SELECT id FROM file_upload_catalog \
         ORDER BY thumbnail_size ASC, id ASC LIMIT :limit) AS page USING (id) \
         ORDER BY file_upload_catalog.thumbnail_size ASC, file_upload_catalog.id ASC"
    ));
    assert_eq!(
        list_statement(CatalogOrder::ThumbnailSize, Direction::Asc),
        SELECT_SMALLEST_THUMBNAILS
    );
    assert_eq!(to_positional(SELECT_SMALLEST_THUMBNAILS).1, ["limit"]);
    assert_eq!(
        to_positional(SELECT_BY_IDEMPOTENCY_KEY).1,
        ["idempotency_key"]
    );
}

#[test]
fn every_listing_selects_every_row_field() {
    let fields: Vec<String> = serde_json::to_value(row())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let orders = [
        CatalogOrder::UploadTime,
        CatalogOrder::ThumbnailSize,
        CatalogOrder::OriginalSize,
    ];
    for order in orders {
        for direction in [Direction::Asc, Direction::Desc] {
            let statement = list_statement(order, direction);
            let columns = &statement["SELECT ".len()..statement.find(" FROM ").unwrap()];
            let mut selected: Vec<String> = columns
                .split(", ")
                .map(|c| c.rsplit(' ').next().unwrap().to_owned())
                .collect();
            selected.sort();
            assert_eq!(selected, fields, "{statement}");
            let keyword = if direction == Direction::Asc {
                "ASC"
            } else {
                "DESC"
            };
            assert!(
                statement.contains(&format!("id {keyword} LIMIT :limit) AS page USING (id)")),
                "{statement}"
            );
            // A bare name there would be the select list's cast of it, not the column.
            let (_, outer_order) = statement.rsplit_once(" ORDER BY ").unwrap();
            for term in outer_order.split(", ") {
                assert!(term.starts_with("file_upload_catalog."), "{statement}");
                assert!(term.ends_with(&format!(" {keyword}")), "{statement}");
            }
        }
    }
}

#[test]
fn migrations_split_into_statements() {
    let mysql = migrations(Dialect::MySql);
    let sqlite = migrations(Dialect::Sqlite);
    assert_eq!((mysql.len(), sqlite.len()), (1, 1));
    assert_eq!(mysql[0].version, sqlite[0].version);
    let mysql = mysql[0].statements();
    assert_eq!(mysql.len(), 1, "the Data API runs one statement per call");
    assert!(mysql[0].contains("CREATE TABLE IF NOT EXISTS file_upload_catalog"));
    assert!(
        mysql[0].contains("UNIQUE KEY uq_file_upload_catalog_idempotency_key (idempotency_key)")
    );
    let sqlite = sqlite[0].statements();
    assert_eq!(sqlite.len(), 3);
    assert!(
        sqlite[1].starts_with("CREATE INDEX IF NOT EXISTS ix_file_upload_catalog_thumbnail_size")
    );
}
