//! The `cobrowse-server` binary: flags, configuration errors, serving, graceful stop on SIGTERM.

use crate::common::*;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cobrowse-server");

#[test]
fn invalid_configuration_names_the_option_and_exits_2() -> Result<()> {
    let out = Command::new(BIN)
        .args(["--set", "session.maxInterval=ten"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("session.maxInterval"), "{err}");

    let out = Command::new(BIN)
        .env("COBROWSE_SESSION_AGENT_SESSIONS_LIMIT", "-1")
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("agentSessionsLimit"), "{err}");
    Ok(())
}

#[tokio::test]
async fn binary_serves_with_flags_and_stops_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("demo"))?;
    std::fs::write(
        www.join("demo/index.html"),
        "<title>demo from flags</title>",
    )?;
    let data = dir.path().join("data");
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1",
            "--port",
            "0",
            "--node-name",
            "bin-node",
        ])
        .arg("--static-dir")
        .arg(&www)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr = loop {
        let line = rx.recv_timeout(WAIT).context("no 'listening' log line")?;
        if line.contains("listening")
            && let Some(rest) = line.split("addr=").nth(1)
        {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    let base = format!("http://{addr}");
    let health = http("GET", &format!("{base}/cobrowse/health"), &[], None).await?;
    assert_eq!(health.json()?["node"], "bin-node");
    let demo = http("GET", &format!("{base}/cobrowse/demo/"), &[], None).await?;
    assert!(demo.body.contains("demo from flags"));
    assert!(
        data.join("cobrowse.redb").exists(),
        "embedded store in --data-dir"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    if !status.success() {
        bail!("kill -TERM failed");
    }
    let mut stopped = false;
    while let Ok(line) = rx.recv_timeout(WAIT) {
        if line.contains("server stopped") {
            stopped = true;
            break;
        }
    }
    let code = child.wait()?;
    assert!(stopped, "no 'server stopped' log line");
    assert!(code.success(), "{code:?}");
    Ok(())
}
