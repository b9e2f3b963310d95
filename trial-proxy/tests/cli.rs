//! The `cobrowse-trial` binary as scripts/trial.sh runs it: it prints where it serves the site
//! and serves it there; a site that is not an origin stops it with a message saying what to do.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::*;

#[test]
fn a_path_instead_of_an_origin_is_refused_with_a_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_cobrowse-trial"))
        .args(["http://localhost:3000/app/", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("must be an origin") && err.contains("open the path through the proxy"),
        "{err}"
    );
}

#[tokio::test]
async fn the_binary_prints_its_url_and_serves_the_site_there() {
    let site = start_site().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cobrowse-trial"))
        .args([
            site.origin().as_str(),
            "--port",
            "0",
            "--cobrowse",
            "http://127.0.0.1:9",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    assert!(line.starts_with(&format!("cobrowse-trial: {} served at ", site.origin())));
    let body = client()
        .get(&url)
        .header("sec-fetch-dest", "document")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let origin = url.trim_end_matches('/');
    assert!(
        body.contains(&format!(r#"src="{origin}/cobrowse/js/cobrowse.js""#)),
        "{body}"
    );
}
