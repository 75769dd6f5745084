//! An async front for a classifier running on its own thread.

use infodemic_core::{Classification, DecisionPolicy, ModelRef};
use tokio::sync::{mpsc, oneshot};

use crate::{ClassifierError, Classify, Result};

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Classification>>>,
}

/// Sends batches to a dedicated inference thread over a bounded queue. Inference is CPU-bound
/// and ONNX Runtime has its own thread pool: it must not run on async workers. Dropping every
/// handle ends the thread.
#[derive(Clone, Debug)]
pub struct ClassifierHandle {
    jobs: mpsc::Sender<Job>,
    model: ModelRef,
    policy: DecisionPolicy,
}

impl ClassifierHandle {
    /// Moves `classifier` onto a new thread; at most `queue` batches wait for it.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn spawn(mut classifier: Box<dyn Classify>, queue: usize) -> std::io::Result<Self> {
        let (jobs, mut receiver) = mpsc::channel::<Job>(queue.max(1));
        let model = classifier.model().clone();
        let policy = classifier.policy();
        std::thread::Builder::new().name("infodemic-classifier".to_owned()).spawn(move || {
            while let Some(job) = receiver.blocking_recv() {
                let result = classifier.classify(&job.texts);
                // The caller may have gone (cancelled run); nothing to do then.
                let _ = job.reply.send(result);
            }
        })?;
        Ok(Self { jobs, model, policy })
    }

    /// Classifies `texts` on the worker thread; waits (without blocking the runtime) while the
    /// queue is full.
    ///
    /// # Errors
    /// The classifier's own error, or [`ClassifierError::WorkerGone`] if the thread died.
    pub async fn classify(&self, texts: Vec<String>) -> Result<Vec<Classification>> {
        let (reply, response) = oneshot::channel();
        self.jobs.send(Job { texts, reply }).await.map_err(|_| ClassifierError::WorkerGone)?;
        response.await.map_err(|_| ClassifierError::WorkerGone)?
    }

    /// A probe of how many batches wait for the inference thread, for metrics. It holds no
    /// handle: the thread still ends when every handle is dropped.
    pub fn queue_probe(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let jobs = self.jobs.downgrade();
        move || jobs.upgrade().map_or(0, |jobs| jobs.max_capacity() - jobs.capacity())
    }

    /// The model behind the scores.
    pub fn model(&self) -> &ModelRef {
        &self.model
    }

    /// The model's thresholds, claim gate and source priors.
    pub fn policy(&self) -> &DecisionPolicy {
        &self.policy
    }
}
