use std::path::PathBuf;

/// What stops a run. Per-feed failures are not here: they are data in [`crate::CrawlSummary`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The catalogue file could not be read.
    #[error("cannot read catalogue {}: {source}", path.display())]
    CatalogueRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The catalogue is not valid.
    #[error("invalid catalogue {}: {message}", path.display())]
    Catalogue {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The ONNX Runtime library or the model could not be found.
    #[error("{what} not found (looked in: {}); run `{setup}` to install it, or pass {flag}", tried.join(", "))]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Paths tried, in order.
        tried: Vec<String>,
        /// The setup command.
        setup: &'static str,
        /// The flag that points at it explicitly.
        flag: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] infodemic_store::StoreError),
    /// The classifier failed.
    #[error(transparent)]
    Classifier(#[from] infodemic_classifier::ClassifierError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Crawler(#[from] infodemic_crawler::FeedError),
    /// The campaign settings or inputs are not valid.
    #[error("campaigns: {0}")]
    Campaigns(String),
    /// An export's files could not be written.
    #[error(transparent)]
    Export(#[from] infodemic_export::ExportError),
    /// The work queue failed.
    #[error(transparent)]
    Queue(#[from] infodemic_queue::QueueError),
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}
