//! How a connection reaches the server: in plain TCP, or in TLS when the URL says
//! `sslmode=require` (libpq's names). The server's certificate is then always verified: against
//! the system's roots, and the PEM file of `sslrootcert` when the URL names one (a private CA).
//! rust-postgres does not know `sslrootcert`, so it is taken out of the URL here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The URL without `sslrootcert`, and the file it named.
pub(crate) fn split_root_cert(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslrootcert", path)) => {
                // A path in a URL's query may be escaped (`%2F`); a malformed escape stays as written.
                root_cert = Some(PathBuf::from(percent_decode_str(path).decode_utf8_lossy().into_owned()));
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (url, root_cert)
}

/// A TLS connector that trusts the system's roots and, when given, the certificates of the PEM
/// file `root_cert`.
///
/// # Errors
/// A message when the file cannot be read or holds no certificate, or when no root at all is
/// trusted.
pub(crate) fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    // The system's roots: one that does not parse is left out (it is the system's, not ours).
    let native = rustls_native_certs::load_native_certs();
    let (system, _) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = root_cert {
        let shown = path.display();
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("sslrootcert {shown}: {e}"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("sslrootcert {shown}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("sslrootcert {shown} holds no certificate"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| format!("sslrootcert {shown}: {e}"))?;
        }
    }
    if roots.is_empty() {
        return Err(format!(
            "no trusted root certificate ({system} from the system): name your server's CA with sslrootcert=FILE"
        ));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslrootcert_is_taken_out_of_the_url() {
        let (url, cert) = split_root_cert("postgres://ann@db/news?sslmode=require&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(
            (url.as_str(), cert),
            ("postgres://ann@db/news?sslmode=require", Some(PathBuf::from("/etc/ca.pem")))
        );
        let (url, cert) = split_root_cert("postgres://ann@db/news?sslrootcert=/etc/ca.pem");
        assert_eq!((url.as_str(), cert), ("postgres://ann@db/news", Some(PathBuf::from("/etc/ca.pem"))));
        let (url, cert) = split_root_cert("postgres://ann@db/news?connect_timeout=2");
        assert_eq!((url.as_str(), cert), ("postgres://ann@db/news?connect_timeout=2", None));
        let (_, cert) = split_root_cert("postgres://db/news?sslrootcert=/a%2");
        assert_eq!(cert, Some(PathBuf::from("/a%2")), "malformed escapes stay as written");
    }

    #[test]
    fn a_root_file_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let message = connector(Some(&empty)).err().unwrap();
        assert!(message.contains("empty.pem") && message.contains("no certificate"), "{message}");
        let missing = connector(Some(&dir.path().join("missing.pem"))).err().unwrap();
        assert!(missing.contains("missing.pem"), "{missing}");
    }
}
