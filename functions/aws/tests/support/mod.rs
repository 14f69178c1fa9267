//! What the tests against the Data API stand-in share.

pub mod standin;

use aws_sdk_rdsdata::config::{Credentials, Region};
use photopipe_aws::{sdk, DataApiCatalog, DataApiTarget};

/// The Lambda's SDK configuration with dummy credentials; the rds-data client alone points
/// at the stand-in (S3 and the others would still go wherever `AWS_ENDPOINT_URL` says).
pub async fn data_api_catalog(url: &str, database: &str) -> DataApiCatalog {
    let shared = sdk::loader()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let config = aws_sdk_rdsdata::config::Builder::from(&shared)
        .endpoint_url(url)
        .build();
    DataApiCatalog::from_client(
        aws_sdk_rdsdata::Client::from_conf(config),
        DataApiTarget {
            resource_arn: "arn:aws:rds:us-east-1:123456789012:cluster:photopipe-catalog-db".into(),
            secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:photopipe-db".into(),
            database: database.into(),
        },
    )
}
