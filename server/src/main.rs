//! `cobrowse-server`: loads the configuration (file → env → flags), sets up logging, binds, and
//! runs until Ctrl-C / SIGTERM. Everything else lives in the library (`cobrowse_server::run`).

use anyhow::Context;
use clap::Parser;
use cobrowse_server::config::{Config, Overrides};
use std::path::PathBuf;

/// Cobrowse relay server. Options: defaults < --config file < COBROWSE_* env < flags.
/// See server/README.md for every option.
#[derive(Debug, Parser)]
#[command(name = "cobrowse-server", version)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address (option `listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Listen port (option `port`, default 8700).
    #[arg(long)]
    port: Option<u16>,
    /// Static root served under /cobrowse/ (option `static.dir`, default `www`).
    #[arg(long, value_name = "DIR")]
    static_dir: Option<PathBuf>,
    /// Embedded storage directory (option `storage.dataDir`, default `data`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Node name (option `nodeName`).
    #[arg(long)]
    node_name: Option<String>,
    /// This node's public URL (option `serverUrl`).
    #[arg(long)]
    server_url: Option<String>,
    /// Public cluster URL (option `cluster.url`).
    #[arg(long)]
    cluster_url: Option<String>,
    /// Log filter, e.g. `info` or `cobrowse_server=debug` (option `logLevel`).
    #[arg(long)]
    log_level: Option<String>,
    /// Any option as dotted-name=value, e.g. `--set session.maxInterval=30s`. Repeatable.
    #[arg(long = "set", value_name = "OPTION=VALUE")]
    set: Vec<String>,
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Cli {
    fn overrides(&self) -> anyhow::Result<Overrides> {
        let mut o = Overrides::default();
        let mut flag = |flag: &str, option: &str, value: Option<String>| {
            if let Some(value) = value {
                o.flag(flag, option, &value);
            }
        };
        let path = |p: &PathBuf| quoted(&p.to_string_lossy());
        flag("--listen", "listen", self.listen.as_deref().map(quoted));
        flag("--port", "port", self.port.map(|p| p.to_string()));
        flag(
            "--static-dir",
            "static.dir",
            self.static_dir.as_ref().map(path),
        );
        flag(
            "--data-dir",
            "storage.dataDir",
            self.data_dir.as_ref().map(path),
        );
        flag(
            "--node-name",
            "nodeName",
            self.node_name.as_deref().map(quoted),
        );
        flag(
            "--server-url",
            "serverUrl",
            self.server_url.as_deref().map(quoted),
        );
        flag(
            "--cluster-url",
            "cluster.url",
            self.cluster_url.as_deref().map(quoted),
        );
        flag(
            "--log-level",
            "logLevel",
            self.log_level.as_deref().map(quoted),
        );
        for kv in &self.set {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--set {kv}: expected OPTION=VALUE"))?;
            o.set(k.trim(), v);
        }
        Ok(o)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars(), &cli.overrides()?) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cobrowse-server: invalid configuration: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let addr = std::net::SocketAddr::new(config.listen, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %bound, node = %config.node_name, static_dir = %config.static_dir.display(), "listening");
    // Test-only (the e2e privacy scans): never set in production; see `capture`.
    if let Some(path) = cobrowse_server::capture::init_from_env()? {
        tracing::warn!(path = %path.display(), "TEST-ONLY frame capture is ON: every inbound frame is written to this file");
    }
    cobrowse_server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown requested");
}
