//! Exit codes, and the error kinds that choose them.

use std::process::ExitCode;

/// 0: success. 1: the command failed. 2: bad usage or input (clap uses 2 as well).
/// 3: the installation is incomplete or the data dir is busy (library, model, lock).
/// 130: interrupted by Ctrl-C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success,
    Failure,
    Usage,
    Setup,
    Interrupted,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(match exit {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Setup => 3,
            Exit::Interrupted => 130,
        })
    }
}

/// The user gave input we cannot use: a missing file, a malformed line, an unknown id.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Chooses the exit code for an error that ended a command.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    use infodemic_classifier::ClassifierError;
    use infodemic_pipeline::PipelineError;
    use infodemic_store::StoreError;

    for cause in error.chain() {
        if cause.is::<UsageError>() {
            return Exit::Usage;
        }
        if let Some(store) = cause.downcast_ref::<StoreError>() {
            return match store {
                StoreError::Locked { .. } | StoreError::SchemaTooNew { .. } => Exit::Setup,
                _ => Exit::Failure,
            };
        }
        if let Some(pipeline) = cause.downcast_ref::<PipelineError>() {
            match pipeline {
                PipelineError::NotFound { .. } => return Exit::Setup,
                PipelineError::Store(StoreError::Locked { .. }) => return Exit::Setup,
                PipelineError::Classifier(_) => return Exit::Setup,
                _ => {}
            }
        }
        if let Some(classifier) = cause.downcast_ref::<ClassifierError>() {
            return match classifier {
                ClassifierError::WorkerGone | ClassifierError::Onnx(_) => Exit::Failure,
                _ => Exit::Setup,
            };
        }
    }
    Exit::Failure
}
