//! Benchmarks live in `benches/benches`; run them with `cargo bench -p infodemic-benches`.
//!
//! - `classify`: texts/s of the real model at batch sizes 1, 8 and 32, on the sample feeds'
//!   items (realistic, mixed-length health news and claims).
//! - `parse`: items/s of feed parsing + normalisation (RSS 2.0, Atom, JSON Feed).
//!
//! Whole-pipeline bench binaries (`cargo run --release -p infodemic-benches --bin NAME`):
//! - `ingest`: items/s of fetch + parse + dedupe + store over 1,000 local feeds, no model.
//! - `large_feeds`: seconds per large real feed (hundreds of items), fetched, parsed,
//!   scored by the real model and stored.
//! - `classify_vs_python`: the model against the Python reference, texts/s.
//! - `review_queue`: p50/p99 of the review page over a store of 100,000 items.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `bodies[i]` at `/feed/{i}.xml` on a local port until the runtime stops; returns the
/// base URL. A stand-in for many feed hosts: no keep-alive, no validators.
///
/// # Errors
/// When no local port can be bound.
pub async fn serve_feeds(bodies: Arc<Vec<Vec<u8>>>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let bodies = Arc::clone(&bodies);
            tokio::spawn(async move {
                let mut request = vec![0u8; 2048];
                let Ok(n) = socket.read(&mut request).await else { return };
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let index = path
                    .strip_prefix("/feed/")
                    .and_then(|p| p.strip_suffix(".xml"))
                    .and_then(|p| p.parse::<usize>().ok());
                let (head, body): (String, &[u8]) = match index.and_then(|i| bodies.get(i)) {
                    Some(body) => (
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        ),
                        body,
                    ),
                    None => ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(), &[]),
                };
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    Ok(format!("http://{address}"))
}

/// Peak resident memory of this process, MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
