//! Is a text about health? A lexicon filter for general feeds (fact-checkers' all-topic
//! feeds, general news): cheap, explainable, multilingual enough for the catalogue's
//! languages. A word counts when it starts with a listed stem ("vaccin" covers vaccine,
//! vaccination, vaccinated; each language's stems are listed), or, for short terms that
//! would match too much as prefixes ("flu", "who"), when it is the term.

use crate::text::fingerprint_text;

/// Stems specific to health: one is enough.
const STRONG: &[&str] = &[
    // English
    "vaccin",
    "vax",
    "covid",
    "coronavirus",
    "sars",
    "pandemic",
    "epidemic",
    "outbreak",
    "virus",
    "infect",
    "disease",
    "cancer",
    "tumor",
    "tumour",
    "diabet",
    "measles",
    "polio",
    "influenza",
    "malaria",
    "tuberculos",
    "ebola",
    "mpox",
    "monkeypox",
    "dengue",
    "cholera",
    "hepatitis",
    "autism",
    "ivermectin",
    "hydroxychloroquine",
    "antibiotic",
    "antiviral",
    "chemotherap",
    "immun",
    "antibod",
    "pathogen",
    "symptom",
    "diagnos",
    "hospital",
    "clinic",
    "patient",
    "physician",
    "doctor",
    "nurse",
    "surgeon",
    "medic",
    "pharma",
    "prescription",
    "booster",
    "mrna",
    "placebo",
    "health",
    "mortality",
    "morbidity",
    "obesity",
    "cholesterol",
    "dementia",
    "alzheimer",
    "depression",
    "suicid",
    "opioid",
    "overdose",
    "fentanyl",
    "nicotine",
    "vaping",
    "tobacco",
    "nutrition",
    "vitamin",
    "supplement",
    "fluorid",
    "chlorine",
    "bleach",
    "homeopath",
    "naturopath",
    "detox",
    "therap",
    "epidemiolog",
    "quarantin",
    "pregnan",
    "abortion",
    "contracept",
    "fertility",
    "menopaus",
    "allerg",
    "asthma",
    "arthritis",
    "insulin",
    "respirator",
    "ventilator",
    "microchip",
    "parasit",
    "bacteri",
    "microb",
    "handwash",
    "sanitiz",
    "sanitis",
    "wellness",
    // Spanish / Portuguese
    "vacun",
    "salud",
    "saúde",
    "saude",
    "enfermedad",
    "doença",
    "médic",
    "sarampi",
    "sarampo",
    "gripe",
    "tratamiento",
    "tratamento",
    "pandemia",
    "epidemia",
    "vírus",
    "mascarilla",
    // French
    "santé",
    "maladie",
    "médecin",
    "hôpital",
    "rougeole",
    "traitement",
    "épidémie",
    // German
    "impf",
    "gesundheit",
    "krankheit",
    "krankenhaus",
    "arzt",
    "ärzt",
    "masern",
    "behandlung",
    "seuche",
];

/// Short terms that count only as whole words.
const EXACT: &[&str] = &[
    "flu", "who", "hiv", "aids", "icu", "rsv", "mms", "std", "sti", "5g", "cdc", "fda", "ema", "nih", "nhs", "ecdc",
    "paho", "ukhsa", "oms", "rki", "drug", "drugs", "dose", "doses", "cure", "cures", "cured", "mask", "masks",
    "blood", "heart", "lungs", "kidney", "virus", "viral", "germs", "toxin", "toxins",
];

/// Whether `text` (title and body) is about health: at least one health term among its words.
pub fn is_health_related(text: &str) -> bool {
    let normalised = fingerprint_text(text);
    normalised.split(' ').any(|word| EXACT.contains(&word) || STRONG.iter().any(|stem| word.starts_with(stem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_texts_pass() {
        for text in [
            "New measles outbreak reported in three districts",
            "Fact check: no, 5G towers do not spread COVID-19",
            "La vacuna contra la gripe ya está disponible",
            "Le ministère de la Santé lance une campagne",
            "Die Impfquote ist gestiegen",
            "Is drinking bleach a cure? No.",
        ] {
            assert!(is_health_related(text), "{text}");
        }
    }

    #[test]
    fn other_topics_do_not() {
        for text in [
            "Senator says the budget deficit doubled last year",
            "Photo shows the president at a football match in 2019",
            "The whole German team is still fluent in English, Liverpool fans say",
        ] {
            assert!(!is_health_related(text), "{text}");
        }
    }
}
