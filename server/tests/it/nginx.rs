//! A real Debian nginx on loopback for the tests that put it in front of servers, running one of
//! the operators' samples (`ci/nginx/…`) rendered with the test's addresses: each replacement
//! must hit, so the sample and the test cannot drift apart. Runs as the current user with a
//! temporary prefix; no system configuration is read.

use anyhow::{Context, Result, bail};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx; stopped (SIGTERM, then waited for) when dropped.
pub struct Nginx {
    /// `127.0.0.1:<port>` it listens on.
    pub addr: String,
    dir: tempfile::TempDir,
    child: Child,
}

/// `ci/nginx/<name>` with every `(from, to)` replaced; panics naming a `from` that no longer
/// occurs.
pub fn render(sample: &str, replacements: &[(&str, &str)]) -> Result<String> {
    let path = format!("{}/../ci/nginx/{sample}", env!("CARGO_MANIFEST_DIR"));
    let mut conf = std::fs::read_to_string(&path).with_context(|| path.clone())?;
    for (from, to) in replacements {
        assert!(
            conf.contains(from),
            "ci/nginx/{sample} no longer contains `{from}`: update the test with it"
        );
        conf = conf.replace(from, to);
    }
    Ok(conf)
}

/// A free loopback address for nginx to listen on.
pub fn free_addr() -> Result<String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(format!("127.0.0.1:{}", l.local_addr()?.port()))
}

impl Nginx {
    /// Starts nginx with `site` (an `http`-block fragment listening on `addr`) and an access log
    /// in `log_format` (nginx variables); returns once `addr` accepts connections.
    pub fn start(site: &str, addr: &str, log_format: &str) -> Result<Nginx> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().display().to_string();
        std::fs::write(dir.path().join("site.conf"), site)?;
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "worker_processes 1;\nerror_log {p}/error.log info;\n\
                 events {{ worker_connections 512; }}\n\
                 http {{\n\
                   log_format t '{log_format}';\n\
                   access_log {p}/access.log t;\n\
                   client_body_temp_path {p}/body; proxy_temp_path {p}/proxy;\n\
                   fastcgi_temp_path {p}/fastcgi; uwsgi_temp_path {p}/uwsgi; \
                 scgi_temp_path {p}/scgi;\n\
                   include {p}/site.conf;\n\
                 }}\n"
            ),
        )?;
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .context("nginx not found: run scripts/setup.sh test (apt-get install nginx)")?;
        let child = Command::new(nginx)
            .args(["-p", &p, "-c", &format!("{p}/nginx.conf"), "-e", "stderr"])
            .args(["-g", &format!("daemon off; pid {p}/nginx.pid;")])
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting nginx")?;
        let mut nginx = Nginx {
            addr: addr.to_string(),
            dir,
            child,
        };
        // nginx has no readiness signal in the foreground: wait for its listen socket (or exit).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = nginx.child.try_wait()? {
                bail!("nginx exited during start: {status}");
            }
            if std::net::TcpStream::connect(&nginx.addr).is_ok() {
                return Ok(nginx);
            }
            if Instant::now() > deadline {
                bail!("nginx did not listen on {}", nginx.addr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Access-log lines so far, in the start's `log_format`.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master stops its workers (a killed master orphans them).
        use rustix::process::{Pid, Signal, kill_process};
        if let Some(pid) = Pid::from_raw(self.child.id() as i32) {
            let _ = kill_process(pid, Signal::TERM);
        }
        let _ = self.child.wait();
    }
}
