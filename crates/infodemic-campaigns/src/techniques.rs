//! DISARM techniques a campaign shows, from what the grouping already counts. Each detector
//! is deliberately plain, so that its evidence sentence says exactly why it fired.
//!
//! DISARM Red framework ids (https://www.disarm.foundation/framework): T0084.001 "Use
//! Copypasta", T0119 "Cross-Posting", T0049 "Flooding the Information Space".

use infodemic_core::{Campaign, Technique};

/// Copies (members repeating another word for word or nearly) before copypasta is named:
/// three copies of one text are no longer one outlet syndicating it.
pub const COPYPASTA_MIN_COPIES: u32 = 2;
/// Distinct sources carrying copies before cross-posting is named.
pub const CROSS_POSTING_MIN_SOURCES: usize = 3;
/// Distinct posters (accounts, else sources) in a surge before it counts as amplification.
pub const AMPLIFICATION_MIN_POSTERS: usize = 2;

fn posters(campaign: &Campaign) -> usize {
    if campaign.accounts.is_empty() {
        campaign.sources.len()
    } else {
        campaign.accounts.len()
    }
}

fn has(campaign: &Campaign, id: &str) -> bool {
    campaign.techniques.iter().any(|t| t.id == id)
}

/// Techniques the campaign shows now that it did not show before. `surge` is the summary of a
/// volume surge raised by the item just assigned, if any.
pub fn newly_detected(campaign: &Campaign, surge: Option<&str>) -> Vec<Technique> {
    let mut found = Vec::new();
    let copies = campaign.profile.repeats;
    if !has(campaign, "T0084.001") && copies >= COPYPASTA_MIN_COPIES && posters(campaign) >= 2 {
        found.push(Technique {
            id: "T0084.001".to_owned(),
            name: "Use Copypasta".to_owned(),
            evidence: format!(
                "{} of {} items repeat another item's text from {} posters",
                copies,
                campaign.size,
                posters(campaign)
            ),
        });
    }
    if !has(campaign, "T0119") && copies >= 1 && campaign.sources.len() >= CROSS_POSTING_MIN_SOURCES {
        found.push(Technique {
            id: "T0119".to_owned(),
            name: "Cross-Posting".to_owned(),
            evidence: format!("the same text posted in {} sources", campaign.sources.len()),
        });
    }
    if let Some(summary) = surge {
        if !has(campaign, "T0049") && posters(campaign) >= AMPLIFICATION_MIN_POSTERS {
            found.push(Technique {
                id: "T0049".to_owned(),
                name: "Flooding the Information Space".to_owned(),
                evidence: format!("{summary}, from {} posters", posters(campaign)),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use infodemic_core::{CampaignId, CampaignMember, CampaignProfile, CampaignStatus};

    fn campaign(sources: &[&str], repeats: u32) -> Campaign {
        let at = DateTime::from_timestamp(0, 0).unwrap_or_default();
        Campaign {
            id: CampaignId(1),
            status: CampaignStatus::Active,
            representative: CampaignMember {
                id: "a".into(),
                url: String::new(),
                text: String::new(),
                time: None,
                source: String::new(),
                account: None,
                score: None,
            },
            representative_similarity: 0.0,
            first_seen: at,
            last_seen: at,
            size: repeats + 1,
            sources: sources.iter().map(|s| ((*s).to_owned(), 1)).collect(),
            accounts: Default::default(),
            languages: Default::default(),
            hourly: Default::default(),
            fact_checks: Default::default(),
            scores: Default::default(),
            techniques: Vec::new(),
            history: Vec::new(),
            profile: CampaignProfile { repeats, ..CampaignProfile::default() },
        }
    }

    #[test]
    fn copies_from_several_sources_are_copypasta_and_cross_posting() {
        let ids = |c: &Campaign, surge| newly_detected(c, surge).into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert!(ids(&campaign(&["a", "b"], 1), None).is_empty(), "one copy is syndication");
        assert_eq!(ids(&campaign(&["a", "b"], 2), None), ["T0084.001"]);
        assert_eq!(ids(&campaign(&["a", "b", "c"], 2), None), ["T0084.001", "T0119"]);
        assert!(ids(&campaign(&["a"], 5), None).is_empty(), "one source copying itself is neither");
        assert_eq!(ids(&campaign(&["a", "b"], 0), Some("volume 9/h")), ["T0049"]);
    }

    #[test]
    fn a_technique_is_reported_once() {
        let mut c = campaign(&["a", "b", "c"], 3);
        c.techniques = newly_detected(&c, None);
        assert_eq!(c.techniques.len(), 2);
        assert!(newly_detected(&c, None).is_empty());
    }
}
