//! The soak's system under test: three `cobrowse-server` nodes in cluster mode sharing one
//! Cassandra keyspace, behind a real nginx running the operators' sample `ci/nginx/cobrowse.conf`
//! (sticky cookie, round-robin pool, retry of a node that is down) rendered with this run's
//! ports. One node can be restarted the way a rolling deploy does it: SIGTERM (the node hands
//! its sessions over), wait for it to exit, start it again on the same port.

use crate::LoadError;
use crate::target::{AGENT_TOKEN, free_port, http};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the binaries, the database and the scratch directory are.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The `cobrowse-server` binary.
    pub server_bin: PathBuf,
    /// The static root the nodes serve.
    pub static_dir: PathBuf,
    /// `host:port` of the Cassandra node.
    pub cassandra: String,
    /// The operators' nginx sample (`ci/nginx/cobrowse.conf`).
    pub nginx_sample: PathBuf,
    /// Logs and nginx's prefix go here.
    pub work_dir: PathBuf,
    /// The nodes' `session.maxInterval`, seconds.
    pub max_interval: u64,
}

/// One node process and its fixed ports (a restart reuses them: nginx names them).
#[derive(Debug)]
pub struct Node {
    /// `n1`, `n2`, `n3`: the names the nginx sample maps the cookie to.
    pub name: String,
    /// Public listener.
    pub addr: SocketAddr,
    /// Internal metrics listener.
    pub metrics: SocketAddr,
    child: Child,
    keyspace: String,
    starts: u32,
}

/// The running cluster; every process is stopped when dropped.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes, `n1`..`n3`.
    pub nodes: Vec<Node>,
    /// nginx's listener: where every client connects.
    pub front: SocketAddr,
    nginx: Child,
    cfg: ClusterConfig,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

impl Node {
    fn spawn(
        cfg: &ClusterConfig,
        name: &str,
        keyspace: &str,
        port: u16,
        mport: u16,
        starts: u32,
    ) -> Result<Node, LoadError> {
        let log = std::fs::File::create(cfg.work_dir.join(format!("{name}.{starts}.log")))?;
        let sets = [
            "storage.type=cassandra".to_string(),
            format!("storage.cassandra.contactPoints={}", cfg.cassandra),
            format!("storage.cassandra.keyspace={keyspace}"),
            "storage.cassandra.replicationStrategy=SimpleStrategy".into(),
            format!("auth.agentToken={AGENT_TOKEN}"),
            format!("metrics.listen=127.0.0.1:{mport}"),
            // Clients reach the nodes through nginx on loopback: count the address nginx
            // forwards. Every simulated client is 127.0.0.1, so the per-address limits are
            // lifted as in the relay load test.
            "network.trustedProxies=127.0.0.1".into(),
            "limits.lookupsPerMinute=100000000".into(),
            "limits.lookupBurst=1000000".into(),
            "limits.createsPerMinute=100000000".into(),
            "limits.createBurst=1000000".into(),
            "limits.connectionsPerAddress=1000000".into(),
            "limits.pendingConnectionsPerAddress=1000000".into(),
            // A party that dropped must be back within this; every drop parks a timer task
            // for this long (see bench/README.md).
            format!("session.maxInterval={}s", cfg.max_interval),
            // The server's session timers (no agent yet, ended session kept) sleep their full
            // time even when moot; shortened from 600 s so the reading after the end tells a
            // leak from a parked timer (see bench/README.md).
            "session.inactivityDuration=60s".into(),
            "session.endedRetention=30s".into(),
        ];
        let mut cmd = Command::new(&cfg.server_bin);
        for s in &sets {
            cmd.args(["--set", s]);
        }
        let child = cmd
            .args(["--listen", "127.0.0.1", "--port", &port.to_string()])
            .args(["--node-name", name])
            .arg("--static-dir")
            .arg(&cfg.static_dir)
            .env("COBROWSE_LOG_LEVEL", "warn")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(Node {
            name: name.into(),
            addr: loopback(port),
            metrics: loopback(mport),
            child,
            keyspace: keyspace.into(),
            starts,
        })
    }

    /// The process id, for `/proc` readings.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (bounded) until the node answers health with its store reachable.
    async fn wait_ready(&mut self, within: Duration) -> Result<(), LoadError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(LoadError::Unexpected(format!(
                    "{} exited before it was ready: {status} (see its log in the work dir)",
                    self.name
                )));
            }
            if let Ok((200, body)) = http(self.addr, "GET", "/cobrowse/health", "").await
                && body.contains("\"ok\"")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(LoadError::Timeout(format!("{} not ready", self.name)));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends SIGTERM (the signal a service manager stops a service with) through `kill(1)`.
fn sigterm(pid: u32) -> Result<(), LoadError> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(LoadError::Unexpected(format!("kill -TERM {pid}: {status}")))
    }
}

/// The nginx sample with this run's addresses: each replacement must hit, so the sample and the
/// soak cannot drift apart.
fn render_site(
    sample: &Path,
    front: SocketAddr,
    nodes: &[SocketAddr],
) -> Result<String, LoadError> {
    let mut conf = std::fs::read_to_string(sample)?;
    let mut swap = vec![("127.0.0.1:8080".to_string(), front.to_string())];
    for (i, n) in nodes.iter().enumerate() {
        swap.push((format!("127.0.0.1:{}", 8081 + i), n.to_string()));
    }
    for (from, to) in swap {
        if !conf.contains(&from) {
            return Err(LoadError::Unexpected(format!(
                "{} no longer contains `{from}`: update the soak with it",
                sample.display()
            )));
        }
        conf = conf.replace(&from, &to);
    }
    Ok(conf)
}

fn start_nginx(dir: &Path, site: &str) -> Result<Child, LoadError> {
    let p = dir.display();
    std::fs::write(dir.join("site.conf"), site)?;
    // Two workers, each allowed every client and upstream socket of the run.
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "worker_processes 2;\nworker_rlimit_nofile 20000;\nerror_log {p}/error.log warn;\n\
             events {{ worker_connections 16384; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {p}/body; proxy_temp_path {p}/proxy;\n\
               fastcgi_temp_path {p}/fastcgi; uwsgi_temp_path {p}/uwsgi; scgi_temp_path {p}/scgi;\n\
               include {p}/site.conf;\n\
             }}\n"
        ),
    )?;
    let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .ok_or_else(|| LoadError::Unexpected("nginx not found (scripts/setup.sh test)".into()))?;
    Ok(Command::new(bin)
        .args([
            "-p",
            &p.to_string(),
            "-c",
            &format!("{p}/nginx.conf"),
            "-e",
            "stderr",
        ])
        .args(["-g", &format!("daemon off; pid {p}/nginx.pid;")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx.stderr"))?)
        .spawn()?)
}

impl Cluster {
    /// Starts the three nodes (in a fresh keyspace) and nginx; returns once all answer.
    pub async fn start(cfg: ClusterConfig) -> Result<Cluster, LoadError> {
        std::fs::create_dir_all(&cfg.work_dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let keyspace = format!("soak_{stamp}");
        let mut nodes = Vec::new();
        for i in 1..=3 {
            let (port, mport) = (free_port()?, free_port()?);
            nodes.push(Node::spawn(
                &cfg,
                &format!("n{i}"),
                &keyspace,
                port,
                mport,
                0,
            )?);
            // The first node creates the keyspace; the others start once it exists.
            if i == 1 {
                nodes[0].wait_ready(Duration::from_secs(120)).await?;
            }
        }
        for n in &mut nodes {
            n.wait_ready(Duration::from_secs(120)).await?;
        }
        let front = loopback(free_port()?);
        let site = render_site(
            &cfg.nginx_sample,
            front,
            &nodes.iter().map(|n| n.addr).collect::<Vec<_>>(),
        )?;
        let nginx_dir = cfg.work_dir.join("nginx");
        std::fs::create_dir_all(&nginx_dir)?;
        let mut nginx = start_nginx(&nginx_dir, &site)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(front).await.is_err() {
            if let Some(status) = nginx.try_wait()? {
                return Err(LoadError::Unexpected(format!(
                    "nginx exited during start: {status} (see {}/nginx.stderr)",
                    nginx_dir.display()
                )));
            }
            if Instant::now() > deadline {
                return Err(LoadError::Timeout("nginx did not listen".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Cluster {
            nodes,
            front,
            nginx,
            cfg,
        })
    }

    /// Rolling restart of node `index`: SIGTERM, wait for the exit (the node hands its sessions
    /// over first), start it again on the same ports. Returns (seconds until it exited, seconds
    /// until the new process answered health), both from the SIGTERM.
    pub async fn restart(&mut self, index: usize) -> Result<(f64, f64), LoadError> {
        let started = Instant::now();
        let node = &mut self.nodes[index];
        sigterm(node.pid())?;
        let deadline = started + Duration::from_secs(60);
        loop {
            if node.child.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                node.kill();
                return Err(LoadError::Timeout(format!(
                    "{} did not exit within 60 s of SIGTERM (killed)",
                    node.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let exited = started.elapsed().as_secs_f64();
        let (name, ks) = (node.name.clone(), node.keyspace.clone());
        let (port, mport, starts) = (node.addr.port(), node.metrics.port(), node.starts + 1);
        *node = Node::spawn(&self.cfg, &name, &ks, port, mport, starts)?;
        node.wait_ready(Duration::from_secs(60)).await?;
        Ok((exited, started.elapsed().as_secs_f64()))
    }
}

impl Cluster {
    /// nginx's master and worker processes (workers are the master's children).
    pub fn nginx_pids(&self) -> Vec<u32> {
        let master = self.nginx.id();
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        std::iter::once(master)
            .chain(children.split_whitespace().filter_map(|p| p.parse().ok()))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: nginx's master stops its workers (a killed master orphans them).
        let _ = sigterm(self.nginx.id());
        let _ = self.nginx.wait();
    }
}
