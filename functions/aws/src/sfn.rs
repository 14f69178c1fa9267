//! The trigger's one call: `StartExecution` with the name derived from the object's
//! identity ([`ExecutionStart`]).
//!
//! Step Functions keeps execution names unique per state machine (for 90 days after an
//! execution closes), so a duplicate S3 notification gets `ExecutionAlreadyExists`. That is
//! the deduplication working, not a failure: [`Started::AlreadyExists`].

use crate::classify::{error_code, port_error};
use aws_config::SdkConfig;
use aws_sdk_sfn::Client;
use photopipe_pipeline::trigger::ExecutionStart;
use photopipe_pipeline::PortError;

/// What `StartExecution` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new execution, with its ARN. (Also what Step Functions answers a repeated start
    /// of a still-running Standard execution with the same input: the same ARN.)
    New { execution_arn: String },
    /// An execution of that name exists already: this object is being or was processed.
    AlreadyExists,
}

/// Starts executions of one state machine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SfnStarter {
    client: Client,
    state_machine_arn: String,
}

impl SfnStarter {
    pub fn new(config: &SdkConfig, state_machine_arn: impl Into<String>) -> Self {
        SfnStarter {
            client: Client::new(config),
            state_machine_arn: state_machine_arn.into(),
        }
    }

    pub async fn start(&self, execution: &ExecutionStart) -> Result<Started, PortError> {
        let input = serde_json::to_string(&execution.input)
            .map_err(|e| PortError::Permanent(format!("serialising the execution input: {e}")))?;
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&execution.name)
            .input(input)
            .send()
            .await;
        match started {
            Ok(output) => Ok(Started::New {
                execution_arn: output.execution_arn,
            }),
            Err(e) if error_code(&e) == Some("ExecutionAlreadyExists") => {
                Ok(Started::AlreadyExists)
            }
            Err(e) => Err(port_error(
                &format!(
                    "starting execution {:?} of {}",
                    execution.name, self.state_machine_arn
                ),
                &e,
            )),
        }
    }
}
