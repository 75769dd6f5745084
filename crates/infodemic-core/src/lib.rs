//! Domain vocabulary of infodemic: what an item, a source, a score and a query are.
//!
//! # Architecture
//! This crate performs no I/O and knows nothing of tokio, reqwest, sled or ort. Every other
//! crate speaks in these types; the store keeps versioned records of its own and converts.
#![deny(missing_docs)]

pub mod campaign;
pub mod claim;
mod decision;
mod feed;
mod feed_state;
pub mod health;
mod id;
mod item;
pub mod language;
pub mod metrics;
pub mod polling;
mod query;
pub mod review;
pub mod simhash;
pub mod text;
pub mod url_canon;
mod verdict;

pub use campaign::{
    growth_now, rank_campaigns, Alert, Campaign, CampaignCounters, CampaignEvent, CampaignFilter, CampaignHead,
    CampaignId, CampaignIdParseError, CampaignMember, CampaignProfile, CampaignStatus, ScoreStats, Technique,
};
pub use claim::{ClaimId, ClaimIdParseError, ClaimOrigin, DebunkedClaim};
pub use decision::{Decision, DecisionPolicy, ModelOutputs, Stance, REFUTE_GATE};
pub use feed::{FeedCategory, FeedKind, FeedSpec, RelevanceFilter, SourceId, SourceIdError};
pub use feed_state::{FeedHealth, FeedState, HttpValidators};
pub use id::{ContentHash, IdParseError, ItemId};
pub use item::{
    Appearance, ClaimMatch, Classification, Evidence, Item, Label, ModelRef, Relation, ScoredItem, UNSCORED_MODEL_ID,
};
pub use query::{ItemCursor, ItemQuery, SortOrder};
pub use review::{
    Agreement, CampaignRef, NewVerdict, QueueEntry, QueueOrder, QueueRequest, RecordedVerdicts, RejectedVerdict,
    ReviewAction, ReviewFilter, ReviewInputError, ReviewState, VerdictEvent, VerdictLabel, VerdictScale,
};
pub use verdict::{Verdict, VerdictParseError};
