//! Clustering quality against gold labels: B-cubed precision/recall/F1 (Bagga & Baldwin,
//! 1998; Amigó et al., 2009) and the adjusted Rand index (Hubert & Arabie, 1985).

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Scores of a predicted clustering against gold labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusteringReport {
    /// Items scored.
    pub items: usize,
    /// Gold clusters.
    pub gold_clusters: usize,
    /// Predicted clusters.
    pub predicted_clusters: usize,
    /// B-cubed precision.
    pub precision: f64,
    /// B-cubed recall.
    pub recall: f64,
    /// B-cubed F1.
    pub f1: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Purity: share of items in their predicted cluster's majority gold label.
    pub purity: f64,
}

/// Scores `predicted` against `gold`, item by item (the two slices are aligned).
pub fn score_clustering<G: Eq + Hash, P: Eq + Hash>(gold: &[G], predicted: &[P]) -> ClusteringReport {
    let n = gold.len().min(predicted.len());
    let mut gold_sizes: HashMap<&G, u64> = HashMap::new();
    let mut predicted_sizes: HashMap<&P, u64> = HashMap::new();
    let mut joint: HashMap<(&G, &P), u64> = HashMap::new();
    for (g, p) in gold.iter().zip(predicted).take(n) {
        *gold_sizes.entry(g).or_default() += 1;
        *predicted_sizes.entry(p).or_default() += 1;
        *joint.entry((g, p)).or_default() += 1;
    }
    let (mut precision, mut recall) = (0.0, 0.0);
    for ((g, p), &both) in &joint {
        // Every item in this cell sees `both` correct neighbours out of its cluster's size.
        let both = both as f64;
        precision += both * both / predicted_sizes[p] as f64;
        recall += both * both / gold_sizes[g] as f64;
    }
    let count = n.max(1) as f64;
    precision /= count;
    recall /= count;
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };

    let pairs = |x: u64| (x as f64) * (x as f64 - 1.0) / 2.0;
    let index: f64 = joint.values().map(|&x| pairs(x)).sum();
    let gold_pairs: f64 = gold_sizes.values().map(|&x| pairs(x)).sum();
    let predicted_pairs: f64 = predicted_sizes.values().map(|&x| pairs(x)).sum();
    let total = pairs(n as u64);
    let expected = if total > 0.0 { gold_pairs * predicted_pairs / total } else { 0.0 };
    let max_index = (gold_pairs + predicted_pairs) / 2.0;
    let ari =
        if (max_index - expected).abs() < f64::EPSILON { 1.0 } else { (index - expected) / (max_index - expected) };

    let mut majority: HashMap<&P, u64> = HashMap::new();
    for ((_, p), &both) in &joint {
        let best = majority.entry(p).or_default();
        *best = (*best).max(both);
    }
    let purity = majority.values().sum::<u64>() as f64 / count;

    ClusteringReport {
        items: n,
        gold_clusters: gold_sizes.len(),
        predicted_clusters: predicted_sizes.len(),
        precision,
        recall,
        f1,
        ari,
        purity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clustering_scores_one() {
        let report = score_clustering(&[1, 1, 2, 2, 3], &["a", "a", "b", "b", "c"]);
        assert_eq!((report.precision, report.recall, report.f1, report.ari, report.purity), (1.0, 1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn one_big_cluster_has_full_recall_and_low_precision() {
        let report = score_clustering(&[1, 1, 2, 2], &[0, 0, 0, 0]);
        assert_eq!(report.recall, 1.0);
        assert_eq!(report.precision, 0.5);
        assert!(report.ari.abs() < 1e-12);
    }

    #[test]
    fn singletons_have_full_precision() {
        // Bagga & Baldwin's example shape: recall is the mean of 1/|gold cluster|.
        let report = score_clustering(&[1, 1, 1, 2], &[0, 1, 2, 3]);
        assert_eq!(report.precision, 1.0);
        assert!((report.recall - (1.0 / 3.0 * 3.0 + 1.0) / 4.0).abs() < 1e-12);
    }
}
