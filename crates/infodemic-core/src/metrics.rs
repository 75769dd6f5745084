//! Binary classification metrics for `infodemic classify --eval` (and model evaluation).

use serde::Serialize;

/// Counts of a binary decision against labels; "positive" means misinformation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// Flagged and misinformation.
    pub true_positive: u64,
    /// Flagged but reliable.
    pub false_positive: u64,
    /// Not flagged and reliable.
    pub true_negative: u64,
    /// Not flagged but misinformation.
    pub false_negative: u64,
}

/// The figures a reviewer needs to judge a model on a labeled set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinaryReport {
    /// Number of examples.
    pub n: usize,
    /// Number of positive (misinformation) examples.
    pub positives: usize,
    /// Decision threshold used.
    pub threshold: f32,
    /// Precision of the misinformation class.
    pub precision: f64,
    /// Recall of the misinformation class.
    pub recall: f64,
    /// F1 of the misinformation class.
    pub f1: f64,
    /// Mean of the F1 of both classes.
    pub macro_f1: f64,
    /// Fraction of correct decisions.
    pub accuracy: f64,
    /// Area under the ROC curve; `None` when only one class is present.
    pub roc_auc: Option<f64>,
    /// Expected calibration error over 15 equal-width bins.
    pub ece: f64,
    /// The decision counts.
    pub confusion: ConfusionMatrix,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// Evaluates `scores` against `labels` (`true` = misinformation) at `threshold`.
///
/// Pairs are matched by position; extra elements of the longer slice are ignored.
pub fn evaluate(scores: &[f32], labels: &[bool], threshold: f32) -> BinaryReport {
    let decisions: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    evaluate_decisions(scores, &decisions, labels, threshold)
}

/// Like [`evaluate`], but the decisions are given: a model's flags can depend on more than
/// the score (a claim gate), while ROC AUC and ECE still read the scores.
pub fn evaluate_decisions(scores: &[f32], decisions: &[bool], labels: &[bool], threshold: f32) -> BinaryReport {
    let n = scores.len().min(labels.len()).min(decisions.len());
    let mut cm = ConfusionMatrix::default();
    for ((&decision, &label), _) in decisions.iter().zip(labels).zip(scores).take(n) {
        match (decision, label) {
            (true, true) => cm.true_positive += 1,
            (true, false) => cm.false_positive += 1,
            (false, false) => cm.true_negative += 1,
            (false, true) => cm.false_negative += 1,
        }
    }
    let precision = ratio(cm.true_positive, cm.true_positive + cm.false_positive);
    let recall = ratio(cm.true_positive, cm.true_positive + cm.false_negative);
    let neg_precision = ratio(cm.true_negative, cm.true_negative + cm.false_negative);
    let neg_recall = ratio(cm.true_negative, cm.true_negative + cm.false_positive);
    let positive_f1 = f1(precision, recall);
    BinaryReport {
        n,
        positives: labels.iter().take(n).filter(|&&l| l).count(),
        threshold,
        precision,
        recall,
        f1: positive_f1,
        macro_f1: (positive_f1 + f1(neg_precision, neg_recall)) / 2.0,
        accuracy: ratio(cm.true_positive + cm.true_negative, n as u64),
        roc_auc: roc_auc(&scores[..n], &labels[..n]),
        ece: expected_calibration_error(&scores[..n], &labels[..n], ECE_BINS),
        confusion: cm,
    }
}

/// Bins used for [`BinaryReport::ece`].
pub const ECE_BINS: usize = 15;

/// Expected calibration error: over equal-width score bins, the weighted mean gap between
/// the mean score and the fraction of positives. 0 for perfectly calibrated probabilities.
pub fn expected_calibration_error(scores: &[f32], labels: &[bool], bins: usize) -> f64 {
    let bins = bins.max(1);
    let mut sum_score = vec![0.0f64; bins];
    let mut positives = vec![0.0f64; bins];
    let mut counts = vec![0usize; bins];
    for (&score, &label) in scores.iter().zip(labels) {
        let score = f64::from(score).clamp(0.0, 1.0);
        let bin = ((score * bins as f64) as usize).min(bins - 1);
        sum_score[bin] += score;
        positives[bin] += f64::from(u8::from(label));
        counts[bin] += 1;
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    (0..bins)
        .filter(|&b| counts[b] > 0)
        .map(|b| {
            let n = counts[b] as f64;
            (n / total as f64) * (sum_score[b] / n - positives[b] / n).abs()
        })
        .sum()
}

/// ROC AUC as the Mann-Whitney statistic: the probability that a random positive scores
/// above a random negative, ties counting half. `None` without both classes.
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Average ranks over ties, then the rank-sum formula.
    let mut rank_sum_positive = 0.0;
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start;
        while end + 1 < pairs.len() && pairs[end + 1].0 == pairs[start].0 {
            end += 1;
        }
        let average_rank = (start + end) as f64 / 2.0 + 1.0;
        rank_sum_positive += average_rank * pairs[start..=end].iter().filter(|p| p.1).count() as f64;
        start = end + 1;
    }
    let p = positives as f64;
    Some((rank_sum_positive - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation() {
        let report = evaluate(&[0.9, 0.8, 0.1, 0.2], &[true, true, false, false], 0.5);
        assert_eq!(report.precision, 1.0);
        assert_eq!(report.recall, 1.0);
        assert_eq!(report.macro_f1, 1.0);
        assert_eq!(report.roc_auc, Some(1.0));
        assert_eq!(report.confusion.true_positive, 2);
    }

    #[test]
    fn mixed_decisions() {
        // One TP, one FN, one FP, one TN.
        let report = evaluate(&[0.9, 0.3, 0.7, 0.1], &[true, true, false, false], 0.5);
        assert_eq!(report.precision, 0.5);
        assert_eq!(report.recall, 0.5);
        assert_eq!(report.f1, 0.5);
        assert_eq!(report.accuracy, 0.5);
        // Positives 0.9, 0.3 vs negatives 0.7, 0.1: 3 of 4 pairs ordered right.
        assert_eq!(report.roc_auc, Some(0.75));
    }

    #[test]
    fn ece_is_zero_when_scores_match_frequencies() {
        // Half of the 0.5-scored texts are positive; every 0.95 one is.
        let scores = [0.5, 0.5, 0.5, 0.5, 0.95, 0.95];
        let labels = [true, false, true, false, true, true];
        assert!((expected_calibration_error(&scores, &labels, 10) - 0.05 * 2.0 / 6.0).abs() < 1e-6);
        // Always 0.9 but never positive: off by 0.9.
        assert!((expected_calibration_error(&[0.9, 0.9], &[false, false], 15) - 0.9).abs() < 1e-6);
    }

    #[test]
    fn ties_count_half() {
        assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), Some(0.5));
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(roc_auc(&[0.5, 0.6], &[true, true]), None);
    }
}
