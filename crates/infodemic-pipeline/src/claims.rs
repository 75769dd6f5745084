//! Known debunked claims: importing them (with their embeddings) and matching items to them.

use std::collections::HashMap;

use infodemic_claims::{ClaimIndex, MATCH_THRESHOLD};
use infodemic_classifier::{ClassifierHandle, Classify};
use infodemic_core::{ClaimId, ClaimMatch, Classification, DebunkedClaim, ModelRef, Stance};
use infodemic_store::ScoreStore;
use serde::Serialize;

use crate::crawl::blocking;
use crate::Result;

/// Claims embedded per classifier call during an import.
const EMBED_CHUNK: usize = 128;

/// Finds the nearest known debunked claim for a classification.
#[derive(Debug)]
pub struct ClaimMatcher {
    index: ClaimIndex,
    claims: HashMap<ClaimId, DebunkedClaim>,
    threshold: f32,
}

impl ClaimMatcher {
    /// Every debunked claim in the store (false, mostly false, misleading), indexed.
    ///
    /// # Errors
    /// Store failures.
    pub fn from_store<S: ScoreStore + ?Sized>(store: &S) -> Result<Self> {
        let mut matcher = Self::empty(MATCH_THRESHOLD);
        for entry in store.claim_entries()? {
            matcher.add(entry.claim, &entry.embedding);
        }
        Ok(matcher)
    }

    /// A matcher that knows no claim yet.
    pub fn empty(threshold: f32) -> Self {
        Self { index: ClaimIndex::new(0), claims: HashMap::new(), threshold }
    }

    /// Adds one claim; claims that are not debunked, or whose embedding does not fit, are
    /// ignored.
    pub fn add(&mut self, claim: DebunkedClaim, embedding: &[f32]) {
        if self.claims.is_empty() && self.index.dim() != embedding.len() {
            // The first claim fixes the dimension: the model's, whatever it is.
            self.index = ClaimIndex::new(embedding.len());
        }
        if claim.verdict.is_debunked()
            && !self.claims.contains_key(&claim.id)
            && self.index.insert(claim.id, embedding).is_ok()
        {
            self.claims.insert(claim.id, claim);
        }
    }

    /// Claims indexed.
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    /// The similarity at or above which a claim matches.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The `k` claims nearest to `embedding`, most similar first, whatever their similarity.
    pub fn nearest(&self, embedding: &[f32], k: usize) -> Vec<(&DebunkedClaim, f32)> {
        self.index
            .nearest(embedding, k)
            .into_iter()
            .filter_map(|(id, similarity)| self.claims.get(&id).map(|claim| (claim, similarity)))
            .collect()
    }

    /// Whether no claim is indexed.
    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    /// The best match of the whole text (`text`, embedded in `classification`) or one of its
    /// evidence sentences, at or above the threshold.
    pub fn best(&self, text: &str, classification: &Classification) -> Option<ClaimMatch> {
        let candidates = std::iter::once((text, classification.embedding.as_slice()))
            .chain(classification.evidence.iter().map(|e| (e.text.as_str(), e.embedding.as_slice())));
        let (matched_text, found) = candidates
            .filter_map(|(text, embedding)| self.index.best_match(embedding, self.threshold).map(|m| (text, m)))
            .max_by(|a, b| a.1.similarity.total_cmp(&b.1.similarity))?;
        let claim = self.claims.get(&found.claim)?;
        Some(ClaimMatch {
            claim_id: claim.id.to_string(),
            claim: claim.text.clone(),
            verdict: claim.verdict.name().to_owned(),
            reviewer: claim.reviewer.clone(),
            review_url: claim.review_url.clone(),
            similarity: found.similarity,
            matched_text: matched_text.to_owned(),
            stance: Some(Stance::of(classification.refute, classification.flagged)),
        })
    }

    /// Records the best match in `classification`, with the item's stance toward it. A match
    /// with a debunked claim makes the item worth a review (when its language is supported)
    /// unless the item refutes the claim; the calibrated score is left as it is, so scores stay
    /// comparable: the match explains, the review flag raises.
    pub fn apply(&self, text: &str, classification: &mut Classification) {
        classification.claim_match = self.best(text, classification);
        let Some(found) = &classification.claim_match else { return };
        let stance = found.stance.unwrap_or(Stance::Mentions);
        let reason = format!(
            "matches the debunked claim {:?} (similarity {:.2}) and {} it",
            found.claim,
            found.similarity,
            stance.as_str()
        );
        if classification.language_supported && stance != Stance::Refutes && !classification.review {
            classification.review = true;
            classification.reasons.push(format!("{reason}: worth a review"));
        } else {
            classification.reasons.push(reason);
        }
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClaimImport {
    /// Claims read from the source.
    pub read: usize,
    /// Claims not stored before, now embedded and stored.
    pub added: usize,
    /// Claims already stored (same id).
    pub known: usize,
    /// Of those read, how many are debunked (used for matching).
    pub debunked: usize,
}

/// Embeds the claims not yet stored and stores them.
///
/// # Errors
/// Store or classifier failures; claims stored before the failure stay.
pub fn import_claims<S: ScoreStore + ?Sized>(
    store: &S,
    classifier: &mut dyn Classify,
    claims: Vec<DebunkedClaim>,
    mut progress: impl FnMut(usize),
) -> Result<ClaimImport> {
    let mut report = ClaimImport { read: claims.len(), ..ClaimImport::default() };
    report.debunked = claims.iter().filter(|c| c.verdict.is_debunked()).count();
    let (fresh, known) = split_unstored(store, claims)?;
    report.known = known;
    for chunk in fresh.chunks(EMBED_CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|c| c.text.clone()).collect();
        let embedded = with_embeddings(chunk, classifier.classify(&texts)?);
        report.added += store.put_claims(&embedded, classifier.model())?;
        progress(chunk.len());
    }
    Ok(report)
}

/// The claims `store` does not hold yet, and how many it holds already (same id).
fn split_unstored<S: ScoreStore + ?Sized>(
    store: &S,
    claims: Vec<DebunkedClaim>,
) -> Result<(Vec<DebunkedClaim>, usize)> {
    let stored: std::collections::HashSet<infodemic_core::ClaimId> =
        store.claim_entries()?.into_iter().map(|entry| entry.claim.id).collect();
    let (known, fresh): (Vec<_>, Vec<_>) = claims.into_iter().partition(|claim| stored.contains(&claim.id));
    Ok((fresh, known.len()))
}

/// [`import_claims`] with the model of a running `watch` (behind its classifier thread).
///
/// # Errors
/// Store or classifier failures; claims stored before the failure stay.
pub async fn import_claims_with<S: ScoreStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    claims: Vec<DebunkedClaim>,
) -> Result<ClaimImport> {
    let mut report = ClaimImport { read: claims.len(), ..ClaimImport::default() };
    report.debunked = claims.iter().filter(|c| c.verdict.is_debunked()).count();
    let (fresh, known) = blocking({
        let store = store.clone();
        move || split_unstored(&store, claims)
    })
    .await??;
    report.known = known;
    let model = classifier.model().clone();
    for chunk in fresh.chunks(EMBED_CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|c| c.text.clone()).collect();
        let embedded = with_embeddings(chunk, classifier.classify(texts).await?);
        let (store, model) = (store.clone(), model.clone());
        report.added += blocking(move || store.put_claims(&embedded, &model)).await??;
    }
    Ok(report)
}

/// What re-embedding the stored claims did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClaimReembed {
    /// The current model (`id@version`): every claim now carries its embedding.
    pub model: String,
    /// Claims stored.
    pub claims: usize,
    /// Claims that were embedded by another model, or by a model not recorded.
    pub stale: usize,
    /// Of those, embedded again with the current model and stored.
    pub reembedded: usize,
}

impl ClaimReembed {
    fn new(model: &ModelRef, claims: usize, stale: usize) -> Self {
        Self { model: format!("{}@{}", model.id, model.version), claims, stale, reembedded: 0 }
    }
}

/// Says, before the work, that stored claims are about to be embedded again (it can take a
/// while after a model change).
fn announce(report: &ClaimReembed) {
    if report.stale > 0 {
        tracing::info!(
            message = "Claims embedded by another model; embedding them again.",
            stale = report.stale,
            model = %report.model
        );
    }
}

/// Pairs claims with the embeddings of their texts.
fn with_embeddings(claims: &[DebunkedClaim], classifications: Vec<Classification>) -> Vec<(DebunkedClaim, Vec<f32>)> {
    claims.iter().cloned().zip(classifications.into_iter().map(|c| c.embedding)).collect()
}

/// The stored claims embedded by another model than `model`, and how many claims there are.
fn stale_claims<S: ScoreStore + ?Sized>(store: &S, model: &ModelRef) -> Result<(Vec<DebunkedClaim>, usize)> {
    let entries = store.claim_entries()?;
    let count = entries.len();
    let stale = entries.into_iter().filter(|entry| !entry.embedded_by(model)).map(|entry| entry.claim).collect();
    Ok((stale, count))
}

/// Embeds again, with `classifier`, every stored claim whose embedding another model made
/// (an embedding is only comparable with embeddings of the same model), and records the
/// model with each. `progress` gets the number of claims done after each chunk.
///
/// # Errors
/// Store or classifier failures; chunks stored before the failure stay.
pub fn reembed_claims<S: ScoreStore + ?Sized>(
    store: &S,
    classifier: &mut dyn Classify,
    mut progress: impl FnMut(usize),
) -> Result<ClaimReembed> {
    let model = classifier.model().clone();
    let (stale, claims) = stale_claims(store, &model)?;
    let mut report = ClaimReembed::new(&model, claims, stale.len());
    announce(&report);
    for chunk in stale.chunks(EMBED_CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|c| c.text.clone()).collect();
        let embedded = with_embeddings(chunk, classifier.classify(&texts)?);
        report.reembedded += store.replace_claim_embeddings(&embedded, &model)?;
        progress(chunk.len());
    }
    if report.reembedded > 0 {
        tracing::info!(message = "Claims embedded again with the current model.", claims = report.reembedded, model = %report.model);
    }
    Ok(report)
}

/// [`reembed_claims`] for async callers: inference on the classifier's thread, the store on
/// the blocking pool. What `crawl`, `watch` and `rescore` run before matching.
///
/// # Errors
/// Store or classifier failures; chunks stored before the failure stay.
pub async fn reembed_stale_claims<S: ScoreStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
) -> Result<ClaimReembed> {
    let model = classifier.model().clone();
    let (stale, claims) = blocking({
        let (store, model) = (store.clone(), model.clone());
        move || stale_claims(&store, &model)
    })
    .await??;
    let mut report = ClaimReembed::new(&model, claims, stale.len());
    announce(&report);
    for chunk in stale.chunks(EMBED_CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|c| c.text.clone()).collect();
        let embedded = with_embeddings(chunk, classifier.classify(texts).await?);
        let (store, model) = (store.clone(), model.clone());
        report.reembedded += blocking(move || store.replace_claim_embeddings(&embedded, &model)).await??;
    }
    if report.reembedded > 0 {
        tracing::info!(message = "Claims embedded again with the current model.", claims = report.reembedded, model = %report.model);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use infodemic_classifier::KeywordClassifier;
    use infodemic_core::{ClaimOrigin, Verdict};
    use infodemic_store::SledStore;

    use super::*;

    fn claim(text: &str, verdict: Verdict) -> DebunkedClaim {
        DebunkedClaim::new(text, verdict, ClaimOrigin::Dataset { name: "test".into() })
    }

    #[test]
    fn claims_embedded_by_another_model_are_embedded_again_and_tagged() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
        let mut classifier = KeywordClassifier::new(&[]);
        let fake = ModelRef { id: "fake".to_owned(), version: "0.0.1".to_owned() };
        let claims = [claim("zzz zzz zzz", Verdict::False), claim("aaa aaa aaa", Verdict::True)];
        // Embeddings by a model that is not the classifier's: nothing like its own.
        let foreign: Vec<(DebunkedClaim, Vec<f32>)> = claims.iter().map(|c| (c.clone(), vec![0.5; 4])).collect();
        store.put_claims(&foreign, &fake).unwrap();
        let current = import_claims(&store, &mut classifier, vec![claim("mmm mmm", Verdict::False)], |_| {}).unwrap();
        assert_eq!(current.added, 1);

        let mut done = 0;
        let report = reembed_claims(&store, &mut classifier, |n| done += n).unwrap();
        assert_eq!(report, ClaimReembed { model: "keyword-test@0".to_owned(), claims: 3, stale: 2, reembedded: 2 });
        assert_eq!(done, 2);
        for entry in store.claim_entries().unwrap() {
            assert_eq!(entry.model.as_ref(), Some(classifier.model()), "{}", entry.claim.text);
            let own = classifier.classify(std::slice::from_ref(&entry.claim.text)).unwrap().remove(0).embedding;
            assert_eq!(entry.embedding, own);
        }
        // The matcher now finds the claim by the classifier's own embedding.
        let mut class = classifier.classify(&["zz zz".to_owned()]).unwrap().remove(0);
        ClaimMatcher::from_store(&store).unwrap().apply("zz zz", &mut class);
        assert_eq!(class.claim_match.map(|m| m.claim), Some("zzz zzz zzz".to_owned()));
        assert_eq!(reembed_claims(&store, &mut classifier, |_| {}).unwrap().reembedded, 0, "nothing left to do");
    }

    #[test]
    fn imports_once_and_matches_only_debunked_claims() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
        let mut classifier = KeywordClassifier::new(&[]);
        let claims = vec![claim("zzz zzz zzz", Verdict::False), claim("aaa aaa aaa", Verdict::True)];
        let report = import_claims(&store, &mut classifier, claims.clone(), |_| {}).unwrap();
        assert_eq!(report, ClaimImport { read: 2, added: 2, known: 0, debunked: 1 });
        let again = import_claims(&store, &mut classifier, claims, |_| {}).unwrap();
        assert_eq!((again.added, again.known), (0, 2));

        let matcher = ClaimMatcher::from_store(&store).unwrap();
        assert_eq!(matcher.len(), 1, "the true claim is not indexed");
        // The keyword classifier embeds letter counts: "zz zz" points where "zzz zzz zzz" does.
        let mut class = classifier.classify(&["zz zz".to_owned()]).unwrap().remove(0);
        assert!(!class.review);
        matcher.apply("zz zz", &mut class);
        let found = class.claim_match.as_ref().unwrap();
        assert_eq!((found.claim.as_str(), found.verdict.as_str()), ("zzz zzz zzz", "false"));
        assert!(class.review, "a known debunked claim is worth a review");
        let mut other = classifier.classify(&["aaa aaa".to_owned()]).unwrap().remove(0);
        matcher.apply("aaa aaa", &mut other);
        assert!(other.claim_match.is_none(), "true claims are not matched");
    }
}
