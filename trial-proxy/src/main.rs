//! `cobrowse-trial`: parses the command line, sets up logging, binds, and runs the proxy until
//! Ctrl-C or SIGTERM. Everything else lives in the library (`cobrowse_trial::run`).

use anyhow::Context;
use clap::Parser;
use cobrowse_trial::Config;
use std::io::IsTerminal;
use tokio::net::TcpListener;

/// Try Cobrowse on an existing site without changing it: serves SITE through this proxy with the
/// co-browse snippet injected into its pages and /cobrowse/ forwarded to the co-browse server.
/// A trial tool, not for production (see trial-proxy/README.md).
#[derive(Debug, Parser)]
#[command(name = "cobrowse-trial", version)]
struct Cli {
    /// The site to serve through the proxy, an origin: http://localhost:3000, https://staging.example.
    #[arg(value_name = "SITE", env = "COBROWSE_TRIAL_UPSTREAM")]
    upstream: String,
    /// The co-browse server that /cobrowse/ (REST, client files, WebSocket) is forwarded to.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8700",
        env = "COBROWSE_TRIAL_COBROWSE"
    )]
    cobrowse: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "COBROWSE_TRIAL_LISTEN")]
    listen: String,
    /// Port to listen on (0 = any free port; the address is printed).
    #[arg(long, default_value_t = 8780, env = "COBROWSE_TRIAL_PORT")]
    port: u16,
    /// The proxy's URL as browsers reach it, when not http://<the Host they send> (e.g. behind a
    /// TLS tunnel: https://trial.example).
    #[arg(long, value_name = "URL", env = "COBROWSE_TRIAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Accept any TLS certificate from an https:// site (self-signed staging hosts).
    #[arg(long, env = "COBROWSE_TRIAL_INSECURE_UPSTREAM_TLS")]
    insecure_upstream_tls: bool,
    /// Log filter, e.g. `info` (every adjustment once) or `debug` (every request).
    #[arg(long, default_value = "info", env = "COBROWSE_TRIAL_LOG")]
    log: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .with_context(|| format!("--log {:?}", cli.log))?,
        )
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = Config::new(
        &cli.upstream,
        &cli.cobrowse,
        cli.public_url.as_deref(),
        cli.insecure_upstream_tls,
    )?;
    let listener = TcpListener::bind((cli.listen.as_str(), cli.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", cli.listen, cli.port))?;
    let addr = listener.local_addr()?;
    let shown = config.public_url.as_ref().map_or_else(
        || format!("http://{addr}"),
        cobrowse_trial::config::origin_string,
    );
    // The one line scripts (scripts/trial.sh, the tests) read to find the proxy.
    println!(
        "cobrowse-trial: {} served at {shown}/",
        cobrowse_trial::config::origin_string(&config.upstream)
    );
    tracing::info!(
        "co-browse server {} at {shown}/cobrowse/ — a trial tool, not for production",
        cobrowse_trial::config::origin_string(&config.cobrowse)
    );
    cobrowse_trial::run(listener, config, stopped()).await
}

/// Ctrl-C or SIGTERM (how scripts/trial.sh and the tests stop it).
async fn stopped() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("no SIGTERM handler ({e}); Ctrl-C still stops the proxy");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
