//! Fact-checked claims, and the nearest one to an item's sentence.
//!
//! infodemic knows claims that fact-checkers have reviewed ([`DebunkedClaim`]: the claim's
//! text, a [`Verdict`] normalised from the publisher's own rating, who reviewed it and where)
//! and, given an item's sentence embedding, finds the claim it is about ([`ClaimIndex`]).
//!
//! Claims come from three kinds of source:
//! - fact-checkers' pages: [`claimreview::extract`] reads the schema.org `ClaimReview`
//!   JSON-LD that PolitiFact, Snopes, Full Fact, AFP, Health Feedback and most
//!   IFCN signatories publish;
//! - files: [`import::read_claimreview_json`] (ClaimReview objects, arrays, JSON lines,
//!   Google Fact Check Tools exports) and [`import::read_csv`];
//! - data sets: [`import::read_cheng_news`] (Cheng et al. 2021 COVID-19 rumours, MIT).
//!
//! ```
//! use infodemic_claims::{claimreview, ClaimIndex, Verdict, MATCH_THRESHOLD};
//! use url::Url;
//!
//! let page = r#"<html lang="en"><script type="application/ld+json">
//!   {"@context": "https://schema.org", "@type": "ClaimReview",
//!    "claimReviewed": "5G networks spread the coronavirus",
//!    "author": {"@type": "Organization", "name": "Example Checks"},
//!    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 6, "alternateName": "Pants on Fire"}}
//! </script></html>"#;
//! let claims = claimreview::extract(page, &Url::parse("https://checks.example.org/5g").unwrap());
//! assert_eq!(claims[0].verdict, Verdict::False);
//! assert!(claims[0].verdict.is_debunked());
//!
//! // Embeddings come from the model (infodemic-classifier); three dimensions for the example.
//! let mut index = ClaimIndex::new(3);
//! index.insert(claims[0].id, &[0.6, 0.8, 0.0]).unwrap();
//! let found = index.best_match(&[0.58, 0.81, 0.05], MATCH_THRESHOLD).unwrap();
//! assert_eq!(found.claim, claims[0].id);
//! ```
//!
//! # Architecture
//! A pure transform, like `infodemic-core`: it parses bytes and does vector math, and
//! performs no I/O (no network, no files, no database) and runs no model. Callers read files
//! and pages, and compute embeddings with `infodemic-classifier`; this crate depends on
//! `infodemic-core` only among the workspace's crates.
//!
//! - [`verdict`]: the many publisher scales onto one [`Verdict`].
//! - `jsonld` (private): ClaimReview JSON-LD in any of its published shapes to a claim,
//!   shared by [`claimreview`] (lenient: a broken block is skipped and counted) and
//!   [`import`] (strict: a broken record is an error naming its line).
//! - [`index`]: brute-force cosine search over contiguous rows; its module documentation
//!   reasons about the scale at which an approximate index would pay off.
//!
//! A [`ClaimId`] depends only on the normalised claim text and the review URL (or, without
//! one, the origin, leaving out an import's file name), so re-reading a source gives the
//! same ids and every importer deduplicates by it.
#![deny(missing_docs)]

pub mod claimreview;
mod date;
mod error;
pub mod import;
pub mod index;
mod jsonld;
pub mod publish;
pub mod verdict;

pub use error::{ClaimsError, Location, Result};
pub use index::{ClaimIndex, ClaimMatch, EMBEDDING_DIM, MATCH_THRESHOLD};
pub use infodemic_core::claim::dedupe;
pub use infodemic_core::{ClaimId, ClaimIdParseError, ClaimOrigin, DebunkedClaim, Verdict, VerdictParseError};
pub use verdict::RatingScale;
