//! Unicode block sparklines for the terminal.

use infodemic_core::Campaign;

use super::timeline::campaign_timeline;

/// The eight block heights, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character per count, scaled so the largest is a full block. Zero is a space, so that
/// gaps stay visible, and any non-zero count shows at least the lowest block.
pub fn sparkline(counts: &[u32]) -> String {
    let max = u64::from(counts.iter().copied().max().unwrap_or(0));
    counts
        .iter()
        .map(|count| {
            if *count == 0 {
                return ' ';
            }
            // Ceiling of count * 8 / max, in 1..=8; u64 so that the product cannot overflow.
            let level = (u64::from(*count) * 8).div_ceil(max).clamp(1, 8);
            BLOCKS[usize::try_from(level - 1).unwrap_or(7).min(7)]
        })
        .collect()
}

/// The campaign's items over time from first to last seen, at most `width` characters (hourly
/// when it fits, else wider buckets; see [`campaign_timeline`]).
pub fn campaign_sparkline(campaign: &Campaign, width: usize) -> String {
    sparkline(&campaign_timeline(campaign, width).counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures::campaign;

    #[test]
    fn scales_to_the_largest_count() {
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&[0, 1, 1000, 500]), " ▁█▄");
        assert_eq!(sparkline(&[u32::MAX, 1]), "█▁");
    }

    #[test]
    fn campaign_sparklines_fit_the_width() {
        let campaign = campaign(3, 200);
        let line = campaign_sparkline(&campaign, 40);
        assert!((1..=40).contains(&line.chars().count()), "{line}");
        assert!(line.chars().all(|c| c == ' ' || BLOCKS.contains(&c)));
        assert_eq!(campaign_sparkline(&campaign, 500).chars().count(), 201);
    }
}
