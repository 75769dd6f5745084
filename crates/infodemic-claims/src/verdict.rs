//! Verdicts on one scale, from the many scales fact-checkers publish.
//!
//! # Architecture
//! Publishers rate in their own words ("Pants on Fire", "Mixture", "Incorrect. There is no
//! evidence…", "Engañoso") and sometimes with a number between `worstRating` and
//! `bestRating`. [`RatingScale::from_rating`] reads the words first: it folds case, accents and
//! punctuation, then looks for the known phrases of its `PHRASES` table and takes the one that starts
//! earliest in the text (the longest one on a tie), because free-text ratings lead with their
//! verdict ("Incorrect. There is no evidence…" is a false claim, not an unproven one). A
//! "true"-like phrase right after a negation ("not true", "n'est pas vrai") means false.
//! Only when the words say nothing known does the number decide, scaled to `0..=1` between
//! worst and best (schema.org's defaults 1 and 5 when missing). Unknown words and no number
//! give [`Verdict::Unrated`], never an error: a rating is data about a claim, and an
//! unknown one must not lose the claim.

use infodemic_core::Verdict;

/// Reads publishers' ratings onto the common [`Verdict`] scale.
pub trait RatingScale: Sized {
    /// Normalises a published rating: the publisher's words (`alternateName`,
    /// `textualRating`, a CSV cell) and/or a numeric `ratingValue` between `worst` and `best`.
    /// Words win when they are recognised; see the module documentation for the rules.
    fn from_rating(text: Option<&str>, rating_value: Option<f64>, best: Option<f64>, worst: Option<f64>) -> Self;
}

impl RatingScale for Verdict {
    fn from_rating(text: Option<&str>, rating_value: Option<f64>, best: Option<f64>, worst: Option<f64>) -> Self {
        if let Some(verdict) = text.and_then(from_words) {
            return verdict;
        }
        rating_value.map_or(Verdict::Unrated, |value| from_scale(value, best.unwrap_or(5.0), worst.unwrap_or(1.0)))
    }
}

/// The verdict the words name, if any known phrase occurs in them.
fn from_words(text: &str) -> Option<Verdict> {
    let folded = fold(text);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    for start in 0..words.len() {
        let rest = &words[start..];
        let best = PHRASES
            .iter()
            .filter(|(phrase, _)| {
                let phrase_words = phrase.split(' ');
                phrase_words.clone().count() <= rest.len() && phrase_words.zip(rest).all(|(p, w)| p == *w)
            })
            .max_by_key(|(phrase, _)| phrase.len());
        if let Some(&(_, verdict)) = best {
            let negated = words[start.saturating_sub(2)..start].iter().any(|w| NEGATIONS.contains(w));
            return Some(match verdict {
                Verdict::True | Verdict::MostlyTrue if negated => Verdict::False,
                other => other,
            });
        }
    }
    None
}

/// The verdict of `value` on a scale from `worst` to `best` (either may be the larger).
fn from_scale(value: f64, best: f64, worst: f64) -> Verdict {
    let span = best - worst;
    if !value.is_finite() || !span.is_finite() || span == 0.0 {
        return Verdict::Unrated;
    }
    let position = (value - worst) / span;
    if !(0.0..=1.0).contains(&position) {
        return Verdict::Unrated;
    }
    match position {
        p if p < 0.125 => Verdict::False,
        p if p < 0.375 => Verdict::MostlyFalse,
        p if p < 0.625 => Verdict::Mixed,
        p if p < 0.875 => Verdict::MostlyTrue,
        _ => Verdict::True,
    }
}

/// Words that turn a following "true" into false.
const NEGATIONS: &[&str] = &["not", "isnt", "arent", "wasnt", "never", "no", "pas", "nicht", "nao", "nem"];

/// Known rating phrases, folded (lowercase, no accents, no punctuation), with their verdict.
/// Covers PolitiFact, Snopes, Full Fact, AFP, Health Feedback, Lead Stories, The Washington
/// Post, and common Spanish, French, German and Portuguese ratings.
const PHRASES: &[(&str, Verdict)] = &[
    // False.
    ("false", Verdict::False),
    ("pants on fire", Verdict::False),
    ("incorrect", Verdict::False),
    ("inaccurate", Verdict::False),
    ("wrong", Verdict::False),
    ("untrue", Verdict::False),
    ("fake", Verdict::False),
    ("fabricated", Verdict::False),
    ("fabrication", Verdict::False),
    ("hoax", Verdict::False),
    ("scam", Verdict::False),
    ("baseless", Verdict::False),
    ("debunked", Verdict::False),
    ("four pinocchios", Verdict::False),
    ("altered", Verdict::False),
    ("doctored", Verdict::False),
    ("falso", Verdict::False),
    ("falsa", Verdict::False),
    ("bulo", Verdict::False),
    ("incorrecto", Verdict::False),
    ("incorreto", Verdict::False),
    ("faux", Verdict::False),
    ("fausse", Verdict::False),
    ("infox", Verdict::False),
    ("falsch", Verdict::False),
    ("frei erfunden", Verdict::False),
    // Mostly false.
    ("mostly false", Verdict::MostlyFalse),
    ("barely true", Verdict::MostlyFalse),
    ("largely false", Verdict::MostlyFalse),
    ("partly false", Verdict::MostlyFalse),
    ("partially false", Verdict::MostlyFalse),
    ("mostly inaccurate", Verdict::MostlyFalse),
    ("three pinocchios", Verdict::MostlyFalse),
    ("mayormente falso", Verdict::MostlyFalse),
    ("parcialmente falso", Verdict::MostlyFalse),
    ("plutot faux", Verdict::MostlyFalse),
    ("partiellement faux", Verdict::MostlyFalse),
    ("teilweise falsch", Verdict::MostlyFalse),
    ("groesstenteils falsch", Verdict::MostlyFalse),
    ("grosstenteils falsch", Verdict::MostlyFalse),
    // Misleading.
    ("misleading", Verdict::Misleading),
    ("missing context", Verdict::Misleading),
    ("lacks context", Verdict::Misleading),
    ("lack of context", Verdict::Misleading),
    ("needs context", Verdict::Misleading),
    ("out of context", Verdict::Misleading),
    ("miscaptioned", Verdict::Misleading),
    ("misattributed", Verdict::Misleading),
    ("cherry picking", Verdict::Misleading),
    ("cherry picks", Verdict::Misleading),
    ("flawed reasoning", Verdict::Misleading),
    ("exaggerated", Verdict::Misleading),
    ("exaggerates", Verdict::Misleading),
    ("overstates", Verdict::Misleading),
    ("distorts", Verdict::Misleading),
    ("enganoso", Verdict::Misleading),
    ("enganosa", Verdict::Misleading),
    ("sin contexto", Verdict::Misleading),
    ("fuera de contexto", Verdict::Misleading),
    ("sem contexto", Verdict::Misleading),
    ("fora de contexto", Verdict::Misleading),
    ("trompeur", Verdict::Misleading),
    ("trompeuse", Verdict::Misleading),
    ("hors contexte", Verdict::Misleading),
    ("manque de contexte", Verdict::Misleading),
    ("irrefuhrend", Verdict::Misleading),
    ("irrefuehrend", Verdict::Misleading),
    ("fehlender kontext", Verdict::Misleading),
    // Mixed.
    ("half true", Verdict::Mixed),
    ("half truth", Verdict::Mixed),
    ("mixture", Verdict::Mixed),
    ("mixed", Verdict::Mixed),
    ("partly true", Verdict::Mixed),
    ("partially true", Verdict::Mixed),
    ("two pinocchios", Verdict::Mixed),
    ("verdadero a medias", Verdict::Mixed),
    ("medio verdadero", Verdict::Mixed),
    ("mitad verdad", Verdict::Mixed),
    ("meia verdade", Verdict::Mixed),
    ("a moitie vrai", Verdict::Mixed),
    ("teilweise richtig", Verdict::Mixed),
    ("teilweise wahr", Verdict::Mixed),
    // Mostly true.
    ("mostly true", Verdict::MostlyTrue),
    ("mostly accurate", Verdict::MostlyTrue),
    ("mostly correct", Verdict::MostlyTrue),
    ("largely true", Verdict::MostlyTrue),
    ("largely accurate", Verdict::MostlyTrue),
    ("one pinocchio", Verdict::MostlyTrue),
    ("mayormente verdadero", Verdict::MostlyTrue),
    ("plutot vrai", Verdict::MostlyTrue),
    ("grosstenteils richtig", Verdict::MostlyTrue),
    // True.
    ("true", Verdict::True),
    ("correct", Verdict::True),
    ("accurate", Verdict::True),
    ("legit", Verdict::True),
    ("correct attribution", Verdict::True),
    ("geppetto checkmark", Verdict::True),
    ("verdadero", Verdict::True),
    ("verdadeiro", Verdict::True),
    ("verdade", Verdict::True),
    ("cierto", Verdict::True),
    ("vrai", Verdict::True),
    ("wahr", Verdict::True),
    ("richtig", Verdict::True),
    // Unproven.
    ("unproven", Verdict::Unproven),
    ("unsupported", Verdict::Unproven),
    ("unverified", Verdict::Unproven),
    ("unsubstantiated", Verdict::Unproven),
    ("unverifiable", Verdict::Unproven),
    ("undetermined", Verdict::Unproven),
    ("no evidence", Verdict::Unproven),
    ("not enough evidence", Verdict::Unproven),
    ("insufficient evidence", Verdict::Unproven),
    ("research in progress", Verdict::Unproven),
    ("sin pruebas", Verdict::Unproven),
    ("sin evidencia", Verdict::Unproven),
    ("sem provas", Verdict::Unproven),
    ("non prouve", Verdict::Unproven),
    ("unbelegt", Verdict::Unproven),
    // Satire.
    ("satire", Verdict::Satire),
    ("satirical", Verdict::Satire),
    ("labeled satire", Verdict::Satire),
    ("labelled satire", Verdict::Satire),
    ("originated as satire", Verdict::Satire),
    ("parody", Verdict::Satire),
    ("satira", Verdict::Satire),
    // Explicitly unrated.
    ("not rated", Verdict::Unrated),
    ("outdated", Verdict::Unrated),
    ("explainer", Verdict::Unrated),
];

/// Lowercase, accents folded (`ñ` → `n`, `ü` → `u`, `ç` → `c`), apostrophes dropped
/// (`isn't` → `isnt`), every other non-alphanumeric character a space.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' => {}
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => out.push('o'),
            'ú' | 'ù' | 'û' | 'ü' => out.push('u'),
            'ñ' => out.push('n'),
            'ç' => out.push('c'),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Verdict::*;

    #[test]
    fn publisher_words() {
        let cases: &[(&str, Verdict)] = &[
            // PolitiFact.
            ("Pants on Fire!", False),
            ("pants-on-fire", False),
            ("False", False),
            ("Mostly False", MostlyFalse),
            ("Half True", Mixed),
            ("Half-True", Mixed),
            ("Mostly True", MostlyTrue),
            ("True", True),
            ("Barely True", MostlyFalse),
            // Snopes.
            ("Mixture", Mixed),
            ("Miscaptioned", Misleading),
            ("Labeled Satire", Satire),
            ("Originated as Satire", Satire),
            ("Unproven", Unproven),
            ("Misattributed", Misleading),
            ("Correct Attribution", True),
            ("Legit", True),
            ("Scam", False),
            ("Outdated", Unrated),
            // Full Fact free text.
            ("Incorrect.", False),
            ("This is not true", False),
            ("This isn’t true.", False),
            ("Incorrect. There is no evidence that the vaccine contains a microchip.", False),
            ("There is no evidence for this.", Unproven),
            ("Correct.", True),
            ("This is not correct: the figures are from 2019.", False),
            ("Misleading. The study did not look at vaccinated people.", Misleading),
            // AFP.
            ("Partly false", MostlyFalse),
            ("Missing context", Misleading),
            ("Altered photo", False),
            ("Misleading", Misleading),
            // Health Feedback.
            ("Inaccurate", False),
            ("Unsupported", Unproven),
            ("Incorrect", False),
            ("Flawed reasoning, Inaccurate", Misleading),
            ("Lack of context", Misleading),
            // The Washington Post.
            ("Four Pinocchios", False),
            // Spanish, French, German, Portuguese.
            ("Falso", False),
            ("FALSO", False),
            ("Engañoso", Misleading),
            ("Enganoso", Misleading),
            ("Sin contexto", Misleading),
            ("Faux", False),
            ("Trompeur", Misleading),
            ("Ce n'est pas vrai", False),
            ("Falsch", False),
            ("Irreführend", Misleading),
            ("Teilweise falsch", MostlyFalse),
            ("Verdadero", True),
            ("Não é verdadeiro", False),
            ("No es cierto", False),
            // Unknown words.
            ("Zombie claim", Unrated),
            ("", Unrated),
            ("   ", Unrated),
        ];
        for &(text, expected) in cases {
            assert_eq!(Verdict::from_rating(Some(text), None, None, None), expected, "{text:?}");
        }
    }

    #[test]
    fn numeric_scales() {
        let cases: &[(f64, Option<f64>, Option<f64>, Verdict)] = &[
            (1.0, Some(5.0), Some(1.0), False),
            (2.0, Some(5.0), Some(1.0), MostlyFalse),
            (3.0, Some(5.0), Some(1.0), Mixed),
            (4.0, Some(5.0), Some(1.0), MostlyTrue),
            (5.0, Some(5.0), Some(1.0), True),
            // schema.org defaults: best 5, worst 1.
            (1.0, None, None, False),
            (5.0, None, None, True),
            // A 0..10 scale, and an inverted 1..6 scale (1 best).
            (0.0, Some(10.0), Some(0.0), False),
            (9.5, Some(10.0), Some(0.0), True),
            (6.0, Some(1.0), Some(6.0), False),
            // Out of range, degenerate or not finite.
            (-1.0, Some(5.0), Some(1.0), Unrated),
            (7.0, Some(5.0), Some(1.0), Unrated),
            (3.0, Some(3.0), Some(3.0), Unrated),
            (f64::NAN, Some(5.0), Some(1.0), Unrated),
        ];
        for &(value, best, worst, expected) in cases {
            assert_eq!(Verdict::from_rating(None, Some(value), best, worst), expected, "{value} {best:?} {worst:?}");
        }
    }

    #[test]
    fn words_win_over_numbers_and_numbers_back_up_unknown_words() {
        assert_eq!(Verdict::from_rating(Some("Misleading"), Some(5.0), Some(5.0), Some(1.0)), Misleading);
        assert_eq!(Verdict::from_rating(Some("Zombie claim"), Some(1.0), Some(5.0), Some(1.0)), False);
        assert_eq!(Verdict::from_rating(None, None, None, None), Unrated);
    }

    #[test]
    fn debunked_verdicts() {
        let debunked: Vec<Verdict> = Verdict::ALL.into_iter().filter(|v| v.is_debunked()).collect();
        assert_eq!(debunked, vec![False, MostlyFalse, Misleading]);
    }

    #[test]
    fn names_round_trip() {
        for (verdict, name) in Verdict::ALL.into_iter().zip(Verdict::NAMES) {
            assert_eq!(verdict.to_string(), name);
            assert_eq!(name.parse::<Verdict>().unwrap(), verdict);
            assert_eq!(serde_json::to_string(&verdict).unwrap(), format!("\"{name}\""));
        }
        assert_eq!("Mostly False".parse::<Verdict>().unwrap(), MostlyFalse);
        assert_eq!("MostlyTrue".parse::<Verdict>().unwrap(), MostlyTrue);
        assert!("Pants on Fire".parse::<Verdict>().is_err());
    }

    proptest! {
        #[test]
        fn from_rating_never_panics(text in ".{0,40}", value in proptest::option::of(any::<f64>()),
                                    best in proptest::option::of(any::<f64>()),
                                    worst in proptest::option::of(any::<f64>())) {
            let _ = Verdict::from_rating(Some(&text), value, best, worst);
        }
    }
}
