-- The catalog of processed uploads: one row per object version that got a thumbnail.
-- MySQL dialect: MySQL 8, MariaDB 10.5+, Aurora MySQL (through the RDS Data API, which runs
-- one statement per call, hence a single statement with the indexes inline). Re-runnable.
-- Dates and times are UTC, written by the application (never the session time zone).
CREATE TABLE IF NOT EXISTS file_upload_catalog (
    id               BIGINT        NOT NULL AUTO_INCREMENT,
    upload_date      DATE          NOT NULL,
    upload_time      TIME          NOT NULL,
    file_name        VARCHAR(1024) NOT NULL,
    original_size    BIGINT        NOT NULL,
    thumbnail_size   BIGINT        NOT NULL,
    bucket           VARCHAR(255)  NOT NULL,
    object_key       VARCHAR(1024) NOT NULL,
    idempotency_key  VARCHAR(255)  NOT NULL,
    original_width   INT           NOT NULL,
    original_height  INT           NOT NULL,
    thumbnail_width  INT           NOT NULL,
    thumbnail_height INT           NOT NULL,
    original_format  VARCHAR(16)   NOT NULL,
    thumbnail_format VARCHAR(16)   NOT NULL,
    thumbnail_key    VARCHAR(1024) NOT NULL,
    execution_name   VARCHAR(80)   NOT NULL,
    processing_ms    BIGINT        NOT NULL,
    created_at       DATETIME      NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_file_upload_catalog_idempotency_key (idempotency_key),
    KEY ix_file_upload_catalog_thumbnail_size (thumbnail_size),
    KEY ix_file_upload_catalog_upload_time (upload_date, upload_time)
) DEFAULT CHARSET = utf8mb4;
