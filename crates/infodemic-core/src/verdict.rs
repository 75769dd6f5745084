//! Fact-checkers' verdicts on one scale. Reading publishers' own rating words into it is
//! `infodemic-claims`' job; this is only the vocabulary.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A fact-checker's verdict on a claim, on a common scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The claim is false ("False", "Pants on Fire", "Incorrect", "Falso", "Faux").
    False,
    /// Mostly false ("Mostly False", "Barely True", "Partly false").
    MostlyFalse,
    /// Misleading: true elements presented to mislead, missing context, miscaptioned.
    Misleading,
    /// Half true, a mixture of true and false.
    Mixed,
    /// Mostly true.
    MostlyTrue,
    /// True ("True", "Correct", "Accurate").
    True,
    /// No evidence either way ("Unproven", "Unsupported", "No evidence").
    Unproven,
    /// Satire, or originated as satire.
    Satire,
    /// No rating, or one this crate does not recognise.
    Unrated,
}

impl Verdict {
    /// Every verdict, from most false to unrated.
    pub const ALL: [Verdict; 9] = [
        Self::False,
        Self::MostlyFalse,
        Self::Misleading,
        Self::Mixed,
        Self::MostlyTrue,
        Self::True,
        Self::Unproven,
        Self::Satire,
        Self::Unrated,
    ];

    /// The names of [`Verdict::ALL`], as [`fmt::Display`] writes them and [`FromStr`] reads them.
    pub const NAMES: [&'static str; 9] =
        ["false", "mostly_false", "misleading", "mixed", "mostly_true", "true", "unproven", "satire", "unrated"];

    /// Whether a fact-checker found the claim false or misleading: `False`, `MostlyFalse`
    /// or `Misleading`. Unproven claims are not counted as debunked.
    pub fn is_debunked(self) -> bool {
        matches!(self, Self::False | Self::MostlyFalse | Self::Misleading)
    }

    /// The snake_case name of the verdict.
    pub fn name(self) -> &'static str {
        match self {
            Self::False => "false",
            Self::MostlyFalse => "mostly_false",
            Self::Misleading => "misleading",
            Self::Mixed => "mixed",
            Self::MostlyTrue => "mostly_true",
            Self::True => "true",
            Self::Unproven => "unproven",
            Self::Satire => "satire",
            Self::Unrated => "unrated",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no verdict.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown verdict `{0}`")]
pub struct VerdictParseError(pub String);

impl FromStr for Verdict {
    type Err = VerdictParseError;

    /// Reads a verdict's name in any case, with `_`, `-` or a space between words
    /// (`mostly_false`, `Mostly False`, `mostly-false`, `MostlyFalse`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String =
            s.trim().chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect();
        Self::ALL
            .into_iter()
            .find(|verdict| verdict.name().replace('_', "") == key)
            .ok_or_else(|| VerdictParseError(s.to_owned()))
    }
}
