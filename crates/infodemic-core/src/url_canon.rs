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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn url_strategy() -> impl Strategy<Value = Url> {
        let host = prop::sample::select(vec!["example.org", "EXAMPLE.org", "sub.example.net", "127.0.0.1", "[::1]"]);
        let scheme = prop::sample::select(vec!["http", "https", "HTTPS"]);
        let segment = "[a-zA-Z0-9%._~-]{0,8}";
        let param = ("(utm_[a-z]{1,6}|fbclid|id|q|page|[a-z]{1,4})", "[a-zA-Z0-9 %+&=#]{0,6}");
        (
            scheme,
            host,
            prop::option::of(1u16..65535),
            prop::collection::vec(segment, 0..4),
            prop::collection::vec(param, 0..5),
            prop::option::of("[a-z0-9]{0,6}"),
        )
            .prop_filter_map("unparseable", |(scheme, host, port, path, params, fragment)| {
                let mut url = Url::parse(&format!("{scheme}://{host}")).ok()?;
                url.set_port(port).ok()?;
                url.set_path(&path.join("/"));
                if !params.is_empty() {
                    url.query_pairs_mut().extend_pairs(params);
                }
                url.set_fragment(fragment.as_deref());
                Some(url)
            })
    }

    proptest! {
        #[test]
        fn canonical_urls_are_stable_and_clean(url in url_strategy()) {
            let once = canonicalize(&url);
            prop_assert_eq!(&canonicalize(&once), &once, "idempotent");
            prop_assert!(once.fragment().is_none());
            prop_assert!(!once.query_pairs().any(|(name, _)| name.to_ascii_lowercase().starts_with("utm_") || name == "fbclid"));
            prop_assert!(once.query() != Some(""));
            prop_assert_eq!(once.host_str(), url.host_str());
            prop_assert_eq!(once.path(), url.path());
        }

        #[test]
        fn parameter_order_does_not_matter(a in "[a-z]{1,4}", b in "[A-Z]{1,4}", x in "[0-9]{1,3}", y in "[0-9]{1,3}") {
            let one = Url::parse(&format!("https://e.org/p?{a}={x}&{b}={y}")).unwrap();
            let other = Url::parse(&format!("https://e.org/p?{b}={y}&{a}={x}")).unwrap();
            prop_assert_eq!(canonicalize(&one), canonicalize(&other));
        }
    }
}
