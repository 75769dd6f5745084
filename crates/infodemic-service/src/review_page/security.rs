//! Who may use the review page, and what every page answer carries.
//!
//! - On a loopback address the page needs no login (whoever reaches it is on this machine),
//!   but the `Host` header must name the loopback address: a web page elsewhere that rebinds
//!   its own host name to 127.0.0.1 gets refused, so it cannot read the page or its CSRF token.
//! - On any other address the page asks for the service's token once (`/review/login`) and
//!   keeps a session cookie derived from it (HttpOnly, SameSite=Strict).
//! - Every form that changes state carries a CSRF token derived from the service's token, and
//!   requests that a browser marks as cross-site are refused.

use std::net::SocketAddr;

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::Response;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "infodemic_session";

/// No scripts but our own file, no inline script or style, no framing, no plugins, forms only
/// to ourselves.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the page checks requests against; derived once from the service's token.
#[derive(Debug)]
pub(crate) struct PageSecurity {
    /// Hidden field of every state-changing form.
    pub(crate) csrf: String,
    /// The session cookie's value after a login.
    session: String,
    /// The service's token (what a login presents).
    token: String,
    /// Whether the address is not loopback.
    pub(crate) login_required: bool,
    /// `Host` values accepted on loopback.
    loopback_hosts: Vec<String>,
}

/// SHA-256 of the token and a purpose, in hex: a value tied to this service's secret that
/// reveals nothing of it.
fn derive(token: &str, purpose: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("infodemic-{purpose}:{token}").as_bytes()))
}

fn equal(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl PageSecurity {
    pub(crate) fn new(token: &str, bound: SocketAddr) -> Self {
        let port = bound.port();
        Self {
            csrf: derive(token, "csrf"),
            session: derive(token, "session"),
            token: token.to_owned(),
            login_required: !bound.ip().is_loopback(),
            loopback_hosts: vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
                bound.to_string(),
            ],
        }
    }

    /// Whether the request may see the page (`Err` holds why not, for the log).
    pub(crate) fn admit(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if self.login_required {
            let cookie_ok = cookie(headers, SESSION_COOKIE).is_some_and(|value| equal(value, &self.session));
            let bearer_ok = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|presented| equal(presented, &self.token));
            if cookie_ok || bearer_ok {
                Ok(())
            } else {
                Err(Refusal::Login)
            }
        } else {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            if self.loopback_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
                Ok(())
            } else {
                Err(Refusal::Host)
            }
        }
    }

    /// Whether a state-changing request is from our own page: its CSRF field matches, and
    /// the browser does not call it cross-site.
    pub(crate) fn same_origin_post(&self, headers: &HeaderMap, csrf: &str) -> bool {
        let cross_site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
        let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            None => true,
            Some(origin) => {
                let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
                origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
            }
        };
        !cross_site && origin_ok && equal(csrf, &self.csrf)
    }

    /// Whether `presented` is the service's token (a login).
    pub(crate) fn is_token(&self, presented: &str) -> bool {
        equal(presented.trim(), &self.token)
    }

    /// The `Set-Cookie` value of a session.
    /// (No `Secure`: the service speaks plain HTTP; put a TLS proxy in front to leave the LAN.)
    pub(crate) fn session_cookie(&self) -> String {
        format!("{SESSION_COOKIE}={}; Path=/review; HttpOnly; SameSite=Strict", self.session)
    }
}

/// Why a page request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not logged in, on a non-loopback address.
    Login,
    /// A `Host` that is not the loopback address (DNS rebinding).
    Host,
}

/// One cookie's value.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The headers every page answer carries.
pub(crate) fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it browsers send `Origin: null` on our own forms, which the
    // same-origin check must then refuse. Other sites still get no referrer.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn loopback_needs_the_loopback_host() {
        let security = PageSecurity::new("secret", "127.0.0.1:4000".parse().unwrap());
        assert_eq!(security.admit(&headers(&[("host", "127.0.0.1:4000")])), Ok(()));
        assert_eq!(security.admit(&headers(&[("host", "localhost:4000")])), Ok(()));
        assert_eq!(security.admit(&headers(&[("host", "evil.example:4000")])), Err(Refusal::Host));
        assert_eq!(security.admit(&headers(&[])), Err(Refusal::Host));
    }

    #[test]
    fn other_addresses_need_the_session_or_the_token() {
        let security = PageSecurity::new("secret", "192.0.2.7:4000".parse().unwrap());
        assert_eq!(security.admit(&headers(&[("host", "192.0.2.7:4000")])), Err(Refusal::Login));
        let cookie = security.session_cookie();
        let value = cookie.split(';').next().unwrap();
        assert_eq!(security.admit(&headers(&[("cookie", &format!("theme=dark; {value}"))])), Ok(()));
        assert_eq!(security.admit(&headers(&[("cookie", "infodemic_session=guess")])), Err(Refusal::Login));
        assert_eq!(security.admit(&headers(&[("authorization", "Bearer secret")])), Ok(()));
        assert!(!cookie.contains("secret"), "the cookie is derived, never the token");
    }

    #[test]
    fn posts_need_the_csrf_token_and_a_same_site_origin() {
        let security = PageSecurity::new("secret", "127.0.0.1:4000".parse().unwrap());
        let csrf = security.csrf.clone();
        let host = ("host", "127.0.0.1:4000");
        assert!(security.same_origin_post(&headers(&[host]), &csrf));
        assert!(security.same_origin_post(&headers(&[host, ("origin", "http://127.0.0.1:4000")]), &csrf));
        assert!(!security.same_origin_post(&headers(&[host]), "forged"));
        assert!(!security.same_origin_post(&headers(&[host, ("origin", "http://evil.example")]), &csrf));
        assert!(!security.same_origin_post(&headers(&[host, ("sec-fetch-site", "cross-site")]), &csrf));
        assert_ne!(csrf, "secret");
    }
}
