//! [`Alerts`] on SNS: one `Publish` to the operations topic, whose e-mail subscription
//! delivers it (the subject becomes the mail's subject).

use crate::classify::port_error;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use photopipe_pipeline::{Alert, Alerts, PortError};

/// The alert topic. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SnsAlerts {
    client: Client,
    topic_arn: String,
}

impl SnsAlerts {
    pub fn new(config: &SdkConfig, topic_arn: impl Into<String>) -> Self {
        SnsAlerts {
            client: Client::new(config),
            topic_arn: topic_arn.into(),
        }
    }
}

impl Alerts for SnsAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), PortError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject)
            .message(&alert.body)
            .send()
            .await
            .map_err(|e| port_error(&format!("publishing to {}", self.topic_arn), &e))?;
        Ok(())
    }
}
