use std::time::Duration;

/// Limits and identity for every fetch.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// Whole-request limit: connect, headers and body.
    pub timeout: Duration,
    /// Limit for establishing the connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Sent with every request; names the tool and a contact URL, as polite crawlers do.
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            user_agent: format!(
                "infodemic/{} (+https://github.com/infodemic/infodemic; health-misinformation monitor)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}
