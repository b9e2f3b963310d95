//! CPU time and resident memory of a process, read from `/proc` (Linux only).

use std::fs;

/// Kernel clock ticks per second for `/proc/<pid>/stat` times. 100 on every mainstream Linux
/// architecture (`getconf CLK_TCK`); reading it properly needs libc, which this crate avoids.
const CLK_TCK: f64 = 100.0;

/// One reading of a process's resource use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// User + system CPU time in seconds.
    pub cpu_secs: f64,
    /// Resident set size in bytes.
    pub rss_bytes: u64,
}

/// Reads `pid`'s CPU time and RSS, or `None` when the process is gone or `/proc` is absent.
pub fn usage(pid: u32) -> Option<Usage> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Usage {
        cpu_secs: cpu_secs_from_stat(&stat)?,
        rss_bytes: rss_from_status(&status)?,
    })
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line, in seconds. The command name
/// (field 2) may contain spaces and parentheses, so fields are counted after its last `)`.
pub fn cpu_secs_from_stat(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime is field 14, i.e. the 12th item of `rest`.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / CLK_TCK)
}

/// `VmRSS` of a `/proc/<pid>/status` text, in bytes.
pub fn rss_from_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "1234 (my (odd) proc) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_secs_from_stat(line), Some(3.0));
        assert_eq!(cpu_secs_from_stat("garbage"), None);
    }

    #[test]
    fn rss_is_read_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t    2048 kB\n";
        assert_eq!(rss_from_status(status), Some(2048 * 1024));
        assert_eq!(rss_from_status("Name: x\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let u = usage(std::process::id()).expect("/proc is mounted on Linux");
        assert!(u.rss_bytes > 0);
    }
}
