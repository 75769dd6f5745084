use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/<profile>/infodemic`, next to the directory of this test binary.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join("infodemic");
    assert!(binary.is_file(), "{} missing: run `cargo build -p infodemic-cli` first", binary.display());
    binary
}

/// A command for the binary with a private data dir and no inherited configuration.
pub fn infodemic(data_dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .env_remove("INFODEMIC_ORT_LIB")
        .env_remove("INFODEMIC_MODEL")
        .env_remove("INFODEMIC_LOG")
        .env("INFODEMIC_DATA_DIR", data_dir)
        // Every fixture server is one host: no politeness delay between its feeds.
        .env("INFODEMIC_HOST_DELAY", "0")
        .current_dir(workspace());
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(workspace().join("tests/fixtures/feeds").join(name)).unwrap()
}

/// Serves every feed fixture under `/feeds/NAME`, plus `/status/404` and `/status/500`.
pub async fn fixture_server() -> MockServer {
    let server = MockServer::start().await;
    for entry in std::fs::read_dir(workspace().join("tests/fixtures/feeds")).unwrap() {
        let entry = entry.unwrap();
        // The parser corpus lives in a subfolder; only the fixtures beside it are served.
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().into_string().unwrap();
        Mock::given(path(format!("/feeds/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture(&name)))
            .mount(&server)
            .await;
    }
    for status in [404u16, 500] {
        Mock::given(path(format!("/status/{status}"))).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    }
    server
}

/// Writes the sha256 of `model_dir/file` into the `[files.<section>]` table of the model's
/// manifest: a manifest that vouches for a changed file, so only deeper checks can notice.
pub fn vouch_for(model_dir: &Path, section: &str, file: &str) {
    use std::fmt::Write as _;
    let digest = {
        let output = Command::new("sha256sum").arg(model_dir.join(file)).output().unwrap();
        String::from_utf8(output.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
    };
    let manifest = std::fs::read_to_string(model_dir.join("model.toml")).unwrap();
    let (mut patched, mut inside) = (String::new(), false);
    for line in manifest.lines() {
        if line.starts_with('[') {
            inside = line.trim() == format!("[files.{section}]");
        }
        if inside && line.starts_with("sha256") {
            writeln!(patched, "sha256 = \"{digest}\"").unwrap();
        } else {
            writeln!(patched, "{line}").unwrap();
        }
    }
    std::fs::write(model_dir.join("model.toml"), patched).unwrap();
}

/// Runs a command off the async runtime (the fixture server lives on it).
pub async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// Kills the child if the test fails before it exits, so no long-running command outlives its
/// test.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
