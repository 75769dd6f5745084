//! Campaigns: one narrative pushed by several sources or accounts in a short time.
//!
//! Pure and synchronous: no I/O, no store, no model. The pipeline feeds items in arrival
//! order and persists what changed; replaying the same items in the same order gives the same
//! campaign ids.
//!
//! - [`grouper`]: incremental, deterministic assignment of items to campaigns.
//! - [`coordination`]: CooRTweet-compatible coordinated-sharing detection.
//! - [`shares`]: stored members as coordination shares (near-identical texts, hashtags).
//! - [`surge`]: alerts on a campaign's opening burst and on its volume against its own baseline.
//! - [`export`]: GEXF, STIX 2.1, CSV and SVG renderings.
//! - [`techniques`]: DISARM techniques (copypasta, cross-posting, amplification).
//! - [`evaluate`]: B-cubed and ARI against gold story labels.

pub mod coordination;
pub mod evaluate;
pub mod export;
pub mod grouper;
pub mod shares;
pub mod surge;
pub mod techniques;
pub mod terms;

pub use grouper::{Assignment, Grouper, GrouperState, GroupingChanges, GroupingConfig, GroupingInput};
