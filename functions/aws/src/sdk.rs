//! The one SDK configuration of a Lambda container, loaded at cold start and shared by its
//! clients (each client holds a connection pool; building one per invocation would redo
//! the TLS handshakes).
//!
//! The HTTPS client is chosen here rather than by the SDK's `default-https-client`
//! feature: that one is rustls on aws-lc-rs, a C library whose build dominates a cold CI
//! build; rustls on ring is the same protocol stack, compiled in a fraction of the time.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// Region, credentials and endpoint from the environment (Lambda sets `AWS_REGION` and the
/// credentials; `AWS_ENDPOINT_URL` points every client at an emulator such as moto).
pub async fn load() -> SdkConfig {
    loader().load().await
}

/// [`load`] before loading, for callers that override part of the environment (tests
/// pointing at an emulator).
pub fn loader() -> ConfigLoader {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls())
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(https)
}

/// rustls on ring, for the SDK clients and for any other HTTPS request a Lambda makes.
pub fn tls() -> Provider {
    Provider::Rustls(CryptoMode::Ring)
}
