//! Claims from files: ClaimReview JSON (and Google Fact Check Tools exports), CSV, and the
//! Cheng et al. 2021 COVID-19 rumour data set.
//!
//! # Architecture
//! Importers take bytes, not paths: reading the file is the caller's business (and its
//! errors the caller's type). Each returns every claim or a [`crate::ClaimsError`] naming
//! the line at fault: a file a user chose to import is either read whole or refused, unlike
//! a crawled page, where a broken block is skipped. Results are deduplicated by
//! [`crate::ClaimId`], first occurrence kept. A `file` argument only labels
//! [`crate::ClaimOrigin::Import`]; it never enters a claim's id.

mod cheng;
mod json;
mod table;

pub use cheng::{read_cheng_news, CHENG_DATASET, CHENG_REVIEWER};
pub use json::read_claimreview_json;
pub use table::read_csv;

/// Input without a leading UTF-8 byte-order mark.
fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
