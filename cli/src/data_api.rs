//! `photopipe catalog … --database-url 'data-api://CLUSTER-ARN?secret=SECRET-ARN&database=DB'`:
//! the deployed catalog (Aurora MySQL) read through the RDS Data API, with the same
//! statements and the same adapter as the catalog Lambda (`photopipe_aws::DataApiCatalog`),
//! so an operator needs AWS credentials and no network path to the database.
//!
//! The AWS SDK is the `aws` cargo feature of this crate, off by default, so the local
//! pipeline (and the README's first command) builds without it; without the feature a
//! `data-api://` URL gets an error saying how to build with it. The region, credentials and
//! endpoint come from the usual AWS environment and profile (`AWS_ENDPOINT_URL_RDS_DATA`
//! points the client elsewhere, as the tests do).

use photopipe_pipeline::ports::{CatalogOrder, Direction};
use photopipe_pipeline::CatalogRow;

pub const SCHEME: &str = "data-api://";

#[cfg(not(feature = "aws"))]
pub async fn list(
    _url: &str,
    _order: CatalogOrder,
    _direction: Direction,
    _limit: u32,
) -> Result<Vec<CatalogRow>, String> {
    Err(format!(
        "{SCHEME} URLs need photopipe built with the `aws` feature (the AWS SDK): \
         `cargo install --path cli --features aws`, or `cargo run --release -p photopipe --features aws -- catalog …`"
    ))
}

/// The rows of the catalog behind `url`, in the given order.
#[cfg(feature = "aws")]
pub async fn list(
    url: &str,
    order: CatalogOrder,
    direction: Direction,
    limit: u32,
) -> Result<Vec<CatalogRow>, String> {
    use photopipe_aws::{sdk, DataApiCatalog};
    use photopipe_pipeline::Catalog;
    let target = parse(url)?;
    let catalog = DataApiCatalog::new(&sdk::load().await, target);
    catalog
        .list(order, direction, limit)
        .await
        .map_err(|e| format!("catalog through the RDS Data API: {e}"))
}

/// The cluster, secret and database of a `data-api://` URL. The ARNs are taken as they
/// are (they hold `:` and `/`), percent-decoded for those who encode them.
#[cfg(feature = "aws")]
pub fn parse(url: &str) -> Result<photopipe_aws::DataApiTarget, String> {
    const FORM: &str = "data-api://CLUSTER-ARN?secret=SECRET-ARN&database=NAME";
    let malformed = |why: String| format!("malformed --database-url ({FORM}): {why}");
    let rest = url
        .strip_prefix(SCHEME)
        .ok_or_else(|| malformed(format!("it does not start with {SCHEME}")))?;
    let (cluster, query) = rest
        .split_once('?')
        .ok_or_else(|| malformed("no ?secret=…&database=… after the cluster ARN".into()))?;
    let decode = |value: &str| {
        percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| malformed(format!("{value:?} is not UTF-8 once percent-decoded")))
    };
    let cluster = decode(cluster)?;
    let (mut secret, mut database) = (None, None);
    for pair in query.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| malformed(format!("{pair:?} is not key=value")))?;
        let slot = match key {
            "secret" => &mut secret,
            "database" => &mut database,
            other => return Err(malformed(format!("unknown parameter {other:?}"))),
        };
        if slot.replace(decode(value)?).is_some() {
            return Err(malformed(format!("{key} is given twice")));
        }
    }
    let arn = |value: &str, service: &str, kind: &str| {
        let parts: Vec<&str> = value.splitn(7, ':').collect();
        let valid = parts.len() >= 7
            && parts[0] == "arn"
            && parts[2] == service
            && parts[5] == kind
            && !parts[6].is_empty();
        if valid {
            Ok(value.to_owned())
        } else {
            Err(malformed(format!(
                "{value:?} is not an ARN of the form arn:PARTITION:{service}:REGION:ACCOUNT:{kind}:NAME"
            )))
        }
    };
    let database = database.ok_or_else(|| malformed("no database=".into()))?;
    if database.is_empty() {
        return Err(malformed("the database name is empty".into()));
    }
    Ok(photopipe_aws::DataApiTarget {
        resource_arn: arn(&cluster, "rds", "cluster")?,
        secret_arn: arn(
            &secret.ok_or_else(|| malformed("no secret=".into()))?,
            "secretsmanager",
            "secret",
        )?,
        database,
    })
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::*;

    const CLUSTER: &str = "arn:aws:rds:eu-west-1:123456789012:cluster:alice-catalog-db";
    const SECRET: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-8f3a2b1c-d4e5-AbCdEf";

    #[test]
    fn the_deploy_guides_url_names_cluster_secret_and_database() {
        let target = parse(&format!(
            "{SCHEME}{CLUSTER}?secret={SECRET}&database=photopipe"
        ));
        assert_eq!(
            target.unwrap(),
            photopipe_aws::DataApiTarget {
                resource_arn: CLUSTER.into(),
                secret_arn: SECRET.into(),
                database: "photopipe".into(),
            }
        );
        // Encoded ARNs and either order of the parameters.
        let encoded = SECRET.replace(':', "%3A").replace('!', "%21");
        let target = parse(&format!(
            "{SCHEME}{CLUSTER}?database=photopipe&secret={encoded}"
        ));
        assert_eq!(target.unwrap().secret_arn, SECRET);
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        let url = |tail: &str| format!("{SCHEME}{CLUSTER}{tail}");
        for (bad, says) in [
            (
                format!("mysql://{CLUSTER}"),
                "does not start with data-api://",
            ),
            (format!("{SCHEME}{CLUSTER}"), "no ?secret="),
            (url("?secret=&database=x"), "is not an ARN"),
            (url(&format!("?secret={SECRET}")), "no database="),
            (url(&format!("?secret={SECRET}&database=")), "empty"),
            (url("?database=x"), "no secret="),
            (
                url(&format!("?secret={SECRET}&database=a&database=b")),
                "given twice",
            ),
            (
                url(&format!("?secret={SECRET}&database=a&region=x")),
                "unknown parameter",
            ),
            (
                url(&format!("?secret={SECRET}&database")),
                "is not key=value",
            ),
            (
                format!("{SCHEME}arn:aws:rds:eu-west-1:1:db:x?secret={SECRET}&database=a"),
                "arn:PARTITION:rds:REGION:ACCOUNT:cluster:NAME",
            ),
            (
                url(&format!("?secret={CLUSTER}&database=a")),
                "secretsmanager",
            ),
        ] {
            let error = parse(&bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
            assert!(error.starts_with("malformed --database-url"), "{error}");
        }
    }
}
