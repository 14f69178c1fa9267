//! From an SDK failure to a [`PortError`]: the single place that decides what is worth
//! retrying.
//!
//! The state machine retries `PhotoPipe.Transient` with backoff and sends everything else
//! to OnFailure at once, so this split decides whether a photo is lost to a blip. Transient:
//! no response at all (timeouts, connection failures, a broken response), throttling, any
//! 5xx, and the few service errors that mean "not now" (an Aurora Serverless v2 database
//! resuming from zero). Everything else — access denied, a missing bucket or topic, a
//! rejected request — is a setup problem that retrying will not fix: permanent, so the
//! failure is recorded and alerted while the operator can still act on it.
//!
//! The SDK itself already retried transient errors a few times (its standard retry mode)
//! before an error reaches here.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use photopipe_pipeline::PortError;

/// Error codes that mean "try again later", across the services photopipe calls.
const TRANSIENT_CODES: &[&str] = &[
    // Throttling, in the spellings the services use.
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "BandwidthLimitExceeded",
    // Server-side trouble that may come with a 4xx status.
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    // S3's answer to two conditional writes racing: "retry the request".
    "ConditionalRequestConflict",
    // RDS Data API: the cluster is scaling up from zero capacity, restarting or slow.
    "DatabaseResumingException",
    "DatabaseUnavailableException",
    "StatementTimeoutException",
    "InternalServerErrorException",
    "ServiceUnavailableError",
];

/// The service's error code (`NoSuchKey`, `ThrottlingException`…), when the service answered.
pub fn error_code<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<&str> {
    error.as_service_error().and_then(|e| e.code())
}

/// The HTTP status of the service's answer, when there was one.
pub fn status<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|raw| raw.status().as_u16())
}

/// Whether a call that failed this way is worth retrying.
pub fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            error_code(error).is_some_and(|code| TRANSIENT_CODES.contains(&code))
                || status(error).is_some_and(|status| status >= 500 || status == 429)
        }
        // A request the SDK could not even build: a bug or a bad configuration.
        _ => false,
    }
}

/// `error`, which happened while `doing` something, as a [`PortError`]: transient or
/// permanent, with a message naming the call and the service's code and message.
pub fn port_error<E>(doing: &str, error: &SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!("{doing}: {}", describe(error));
    if is_transient(error) {
        PortError::Transient(message)
    } else {
        PortError::Permanent(message)
    }
}

/// `Code (HTTP status): message` for a service error, the whole source chain otherwise (a
/// timeout's or a connection failure's cause is several errors deep).
pub fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (error.as_service_error(), status(error)) {
        (Some(service), Some(status)) => format!(
            "{} (HTTP {status}): {}",
            service.code().unwrap_or("unknown error"),
            service.message().unwrap_or("no message")
        ),
        _ => DisplayErrorContext(error).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: &str, status: u16) -> SdkError<ErrorMetadata, HttpResponse> {
        let error = ErrorMetadata::builder()
            .code(code)
            .message("the service said so")
            .build();
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(error, raw)
    }

    #[test]
    fn throttling_5xx_and_a_resuming_database_are_transient() {
        for (code, status) in [
            ("SlowDown", 503),
            ("ThrottlingException", 400),
            ("Throttling", 400),
            ("TooManyRequestsException", 429),
            ("DatabaseResumingException", 400),
            ("StatementTimeoutException", 400),
            ("InternalError", 500),
            ("SomethingNew", 502),
            ("ConditionalRequestConflict", 409),
        ] {
            let error = service_error(code, status);
            assert!(is_transient(&error), "{code} {status}");
            assert!(
                matches!(port_error("calling", &error), PortError::Transient(m) if m.contains(code)),
                "{code}"
            );
        }
    }

    #[test]
    fn access_denied_and_missing_resources_are_permanent() {
        for (code, status) in [
            ("AccessDenied", 403),
            ("AccessDeniedException", 400),
            ("NoSuchBucket", 404),
            ("NotFound", 400),
            ("BadRequestException", 400),
            ("InvalidParameter", 400),
            ("ForbiddenException", 403),
        ] {
            let error = service_error(code, status);
            assert!(!is_transient(&error), "{code} {status}");
            let PortError::Permanent(message) = port_error("putting the object", &error) else {
                panic!("{code} should be permanent");
            };
            assert_eq!(
                message,
                format!("putting the object: {code} (HTTP {status}): the service said so")
            );
        }
    }

    #[test]
    fn no_answer_at_all_is_transient() {
        let timeout: SdkError<ErrorMetadata, HttpResponse> =
            SdkError::timeout_error("operation timed out after 3.1 s");
        assert!(is_transient(&timeout));
        assert!(describe(&timeout).contains("3.1 s"));

        let refused: SdkError<ErrorMetadata, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(is_transient(&refused));

        let garbled: SdkError<ErrorMetadata, HttpResponse> = SdkError::response_error(
            "unexpected end of body",
            HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty()),
        );
        assert!(is_transient(&garbled));
    }

    #[test]
    fn a_request_that_cannot_be_built_is_permanent() {
        let error: SdkError<ErrorMetadata, HttpResponse> =
            SdkError::construction_failure("missing required field `bucket`");
        assert!(matches!(
            port_error("heading the object", &error),
            PortError::Permanent(m) if m.contains("bucket")
        ));
    }
}
