use std::process::Stdio;
use std::time::Duration;

use infodemic_store::SledStore;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{fixture_server, infodemic, json_lines, stderr};

/// Accepts connections, reports each request, and never answers.
async fn hanging_server() -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (requests, received) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 1024];
            let _ = socket.read(&mut buffer).await;
            let _ = requests.send(()).await;
            held.push(socket);
        }
    });
    (format!("http://{address}/hang.xml"), received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_crawl_leaves_a_consistent_store() {
    let server = fixture_server().await;
    let (hang_url, mut hang_requests) = hanging_server().await;
    let data = tempfile::tempdir().unwrap();
    let mut command = infodemic(data.path());
    command.args(["crawl", "--json", "--timeout", "600", "--concurrency", "2", "--url", &hang_url]);
    for feed in ["misinfo.xml", "reliable.xml", "atom.xml", "rss2.xml", "feed.json"] {
        command.args(["--url", &format!("{}/feeds/{feed}", server.uri())]);
    }
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    // Synchronise on the crawler being inside a fetch that will never finish.
    tokio::time::timeout(Duration::from_secs(120), hang_requests.recv()).await.unwrap().unwrap();
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();

    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let summary = json_lines(&output).remove(0);
    assert_eq!(summary["interrupted"], true);
    assert!(summary["feeds_skipped"].as_u64().unwrap() >= 1, "the hanging feed never finished");

    // Whatever was committed is whole: every item indexed, and exactly what the summary says.
    let (store, _) = SledStore::open(&data.path().join("store")).unwrap();
    let stored = store.verify().unwrap();
    assert_eq!(stored as u64, summary["items_new"].as_u64().unwrap());
    assert!(store.feed_state(hang_url.trim_start_matches("http://")).unwrap().is_none());
}
