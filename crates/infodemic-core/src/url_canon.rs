//! Canonical URLs: one spelling per page, so tracking parameters and fragments do not
//! make the same article look new.

use url::Url;

/// Query parameters that identify a campaign or a click, never the page itself.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src", "cmpid", "ocid",
    "smid",
];

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}

/// Returns the canonical form of `url`: lowercase scheme and host (the `url` crate already
/// does both and drops default ports), no fragment, no tracking parameters, remaining query
/// parameters sorted, and no trailing `?`.
pub fn canonicalize(url: &Url) -> Url {
    let mut canonical = url.clone();
    canonical.set_fragment(None);
    if canonical.query().is_some() {
        let mut params: Vec<(String, String)> = canonical
            .query_pairs()
            .filter(|(name, _)| !is_tracking_param(name))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        params.sort();
        if params.is_empty() {
            canonical.set_query(None);
        } else {
            canonical.query_pairs_mut().clear().extend_pairs(params);
        }
    }
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn strips_tracking_and_fragment() {
        assert_eq!(
            canon("HTTPS://Example.ORG:443/a/b?utm_source=x&id=7&UTM_Medium=y#frag"),
            "https://example.org/a/b?id=7"
        );
    }

    #[test]
    fn sorts_remaining_params_and_drops_empty_query() {
        assert_eq!(canon("https://e.org/p?b=2&a=1"), "https://e.org/p?a=1&b=2");
        assert_eq!(canon("https://e.org/p?fbclid=abc"), "https://e.org/p");
        assert_eq!(canon("https://e.org/p?"), "https://e.org/p");
    }

    #[test]
    fn canonicalisation_is_idempotent() {
        for raw in ["https://e.org/x?z=1&y=2&utm_campaign=q#top", "http://E.org:80/", "https://e.org/a%20b?q=a+b"] {
            let once = canon(raw);
            assert_eq!(canon(&once), once, "not idempotent for {raw}");
        }
    }
}
