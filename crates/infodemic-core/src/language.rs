//! Language of a text: detected with whatlang, reported as ISO 639-1 where one exists.

use whatlang::Lang;

/// `en-US` to `en`.
pub fn primary_subtag(tag: &str) -> String {
    tag.split(['-', '_']).next().unwrap_or(tag).to_ascii_lowercase()
}

/// The language of `text` when the detector is confident (on up to 2,000 characters); ISO 639-1 where one exists.
pub fn detect_language(text: &str) -> Option<String> {
    let sample: String = text.chars().take(2000).collect();
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() {
        return None;
    }
    Some(iso_639_1(info.lang()).map_or_else(|| info.lang().code().to_owned(), str::to_owned))
}

fn iso_639_1(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Eng => "en",
        Lang::Spa => "es",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Nld => "nl",
        Lang::Rus => "ru",
        Lang::Ukr => "uk",
        Lang::Pol => "pl",
        Lang::Tur => "tr",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Cmn => "zh",
        Lang::Kor => "ko",
        Lang::Ind => "id",
        Lang::Vie => "vi",
        Lang::Swe => "sv",
        Lang::Dan => "da",
        Lang::Nob => "nb",
        Lang::Fin => "fi",
        Lang::Ell => "el",
        Lang::Heb => "he",
        Lang::Ron => "ro",
        Lang::Ces => "cs",
        Lang::Hun => "hu",
        Lang::Tha => "th",
        Lang::Ben => "bn",
        Lang::Pes => "fa",
        Lang::Urd => "ur",
        Lang::Tgl => "tl",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_subtag_lowercases() {
        assert_eq!(primary_subtag("en-US"), "en");
        assert_eq!(primary_subtag("FR"), "fr");
    }

    #[test]
    fn detects_confident_languages_only() {
        let spanish =
            "El ministerio de salud anuncia una nueva campaña de vacunación contra el sarampión para todos los niños.";
        assert_eq!(detect_language(spanish).as_deref(), Some("es"));
        let english = "The health ministry announced a new measles vaccination campaign for all children under five.";
        assert_eq!(detect_language(english).as_deref(), Some("en"));
        assert_eq!(detect_language("ok"), None);
    }
}
