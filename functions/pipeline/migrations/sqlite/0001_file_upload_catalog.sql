-- The catalog of processed uploads, SQLite dialect: the same table as
-- ../mysql/0001_file_upload_catalog.sql. A separate file because SQLite only assigns ids
-- to a column declared exactly `INTEGER PRIMARY KEY` and rejects MySQL's `AUTO_INCREMENT`
-- and inline `KEY` clauses. Dates and times are stored as the same UTC text MySQL returns
-- for them ('YYYY-MM-DD', 'HH:MM:SS', 'YYYY-MM-DD HH:MM:SS'), so the shared statements of
-- sql.rs read identically from both. Re-runnable.
CREATE TABLE IF NOT EXISTS file_upload_catalog (
    id               INTEGER PRIMARY KEY,
    upload_date      TEXT    NOT NULL,
    upload_time      TEXT    NOT NULL,
    file_name        TEXT    NOT NULL,
    original_size    INTEGER NOT NULL,
    thumbnail_size   INTEGER NOT NULL,
    bucket           TEXT    NOT NULL,
    object_key       TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    original_width   INTEGER NOT NULL,
    original_height  INTEGER NOT NULL,
    thumbnail_width  INTEGER NOT NULL,
    thumbnail_height INTEGER NOT NULL,
    original_format  TEXT    NOT NULL,
    thumbnail_format TEXT    NOT NULL,
    thumbnail_key    TEXT    NOT NULL,
    execution_name   TEXT    NOT NULL,
    processing_ms    INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    CONSTRAINT uq_file_upload_catalog_idempotency_key UNIQUE (idempotency_key)
);
CREATE INDEX IF NOT EXISTS ix_file_upload_catalog_thumbnail_size
    ON file_upload_catalog (thumbnail_size);
CREATE INDEX IF NOT EXISTS ix_file_upload_catalog_upload_time
    ON file_upload_catalog (upload_date, upload_time);
