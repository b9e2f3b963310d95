//! Loading and validation: layers, value forms, errors, and the option list against the README.

use super::*;
use figment::Provider;

fn overrides(cli: &[(&str, &str)]) -> Overrides {
    let mut o = Overrides::default();
    for (option, value) in cli {
        o.set(option, value);
    }
    o
}

fn load(
    file: Option<&str>,
    env: &[(&str, &str)],
    cli: &[(&str, &str)],
) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).expect("write");
    }
    Config::load(
        file.map(|_| path.as_path()),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        &overrides(cli),
    )
}

#[test]
fn defaults_match_the_documentation() {
    let c = Config::default();
    assert_eq!(c.port, 8700);
    assert_eq!(c.inactivity_duration, Duration::from_secs(600));
    assert_eq!(c.max_interval, Duration::from_secs(600));
    assert!(c.write_mode_allowed);
    assert_eq!(c.agent_sessions_limit, 1);
    assert_eq!(c.static_dir, PathBuf::from("www"));
    assert_eq!(c.hard_cache, Duration::ZERO);
    assert!(c.allowed_origins.allows("https://anything.example"));
    assert_eq!(
        c.storage,
        StorageConfig::Embedded {
            data_dir: PathBuf::from("data")
        }
    );
    assert!(
        c.auth.needs_generated_token(),
        "no credential configured: one is generated"
    );
    assert_eq!(c.frame_ancestors, "'self'");
    assert_eq!(c.dom_policy, DomPolicy::default());
    assert_eq!(c.css_proxy.forward_proxy, None);
    assert_eq!(c.css_proxy.max_css_bytes, 2 * 1024 * 1024);
    assert_eq!(c.css_proxy.connect_timeout, Duration::from_secs(5));
    assert_eq!(c.css_proxy.timeout, Duration::from_secs(15));
    assert_eq!(c.css_proxy.cache_bytes, 32 * 1024 * 1024);
}

#[test]
fn env_names_are_derived_from_option_names() {
    assert_eq!(
        env_name("session.inactivityDuration"),
        "COBROWSE_SESSION_INACTIVITY_DURATION"
    );
    assert_eq!(env_name("port"), "COBROWSE_PORT");
    assert_eq!(env_name("cluster.url"), "COBROWSE_CLUSTER_URL");
}

#[test]
fn each_layer_overrides_the_one_before() {
    let file = "port = 9000\n[session]\ninactivityDuration = 30\nmaxInterval = \"2m\"\n";
    let c = load(Some(file), &[], &[]).expect("file only");
    assert_eq!(c.port, 9000);
    assert_eq!(c.inactivity_duration, Duration::from_secs(30));
    assert_eq!(c.max_interval, Duration::from_secs(120));

    let env = [
        ("COBROWSE_PORT", "9100"),
        ("COBROWSE_SESSION_INACTIVITY_DURATION", "250ms"),
        ("COBROWSE_UNRELATED_SETTING", "x"),
    ];
    let c = load(Some(file), &env, &[]).expect("file + env");
    assert_eq!(c.port, 9100);
    assert_eq!(c.inactivity_duration, Duration::from_millis(250));
    assert_eq!(c.max_interval, Duration::from_secs(120));

    let c = load(Some(file), &env, &[("port", "9200")]).expect("all layers");
    assert_eq!(c.port, 9200);
    assert_eq!(c.inactivity_duration, Duration::from_millis(250));
}

#[test]
fn ui_defaults_for_the_agent_page() {
    let c = Config::default();
    assert_eq!((c.ui_locale, c.ui_theme), (None, None));
    let c = load(
        Some("[ui]\nlocale = \"de\"\n"),
        &[("COBROWSE_UI_THEME", "high-contrast")],
        &[],
    )
    .expect("ui options");
    assert_eq!(c.ui_locale.as_deref(), Some("de"));
    assert_eq!(c.ui_theme.as_deref(), Some("high-contrast"));
    for (option, value) in [("ui.theme", "neon"), ("ui.locale", "../en")] {
        let err = load(None, &[], &[(option, value)]).expect_err(value);
        assert!(err.to_string().contains(option), "{err}");
    }
}

#[test]
fn lists_accept_commas_or_arrays() {
    let c = load(
        None,
        &[(
            "COBROWSE_CROSS_ORIGIN_ALLOWED_ORIGINS",
            "https://a.example, http://*.b.example:8080",
        )],
        &[],
    )
    .expect("env list");
    assert!(c.allowed_origins.allows("https://a.example"));
    assert!(c.allowed_origins.allows("http://x.b.example:8080"));
    assert!(!c.allowed_origins.allows("https://evil.example"));
    let c = load(
        Some("[crossOrigin]\nallowedOrigins = [\"https://a.example\"]\n"),
        &[],
        &[],
    )
    .expect("array");
    assert!(!c.allowed_origins.allows("https://b.example"));
}

#[test]
fn css_proxy_options_come_from_every_layer_and_are_checked() {
    let c = load(
        Some("[proxy]\nmaxCssBytes = 1000\ntimeout = \"3s\"\n"),
        &[
            ("COBROWSE_PROXY_FORWARD_PROXY", "http://egress.corp:3128"),
            ("COBROWSE_PROXY_CACHE_BYTES", "4096"),
        ],
        &[("proxy.connectTimeout", "250ms")],
    )
    .expect("proxy options");
    let p = &c.css_proxy;
    assert_eq!(p.forward_proxy.as_deref(), Some("http://egress.corp:3128"));
    assert_eq!(
        (p.max_css_bytes, p.cache_bytes),
        (1000, 4096),
        "file and env"
    );
    assert_eq!(p.timeout, Duration::from_secs(3));
    assert_eq!(p.connect_timeout, Duration::from_millis(250));
    for (option, value, named) in [
        ("proxy.forwardProxy", "socks5://x:1", "proxy.forwardProxy"),
        ("proxy.maxCssBytes", "0", "proxy.maxCssBytes"),
        ("proxy.timeout", "0", "proxy.timeout"),
        (
            "proxy.allowedExternalDomains",
            "cdn.example",
            "proxy.allowedExternalDomains",
        ),
    ] {
        let e = load(None, &[], &[(option, value)]).expect_err(option);
        assert!(e.to_string().contains(named), "{option}: {e}");
    }
}

#[test]
fn errors_name_the_option() {
    type Pairs<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Option<&str>, Pairs, Pairs, &str)] = &[
        (Some("port = \"x\""), &[], &[], "port"),
        (
            Some("[session]\nmaxInterval = \"ten\""),
            &[],
            &[],
            "maxInterval",
        ),
        (Some("[session]\nbogus = 1"), &[], &[], "`session.bogus`"),
        (
            Some("[session]\nmaxInterval = \"ten\""),
            &[],
            &[],
            "`session.maxInterval`",
        ),
        (
            None,
            &[("COBROWSE_SESSION_INACTIVITY_DURATION", "0")],
            &[],
            "session.inactivityDuration",
        ),
        (None, &[], &[("cluster.url", "ftp://x")], "cluster.url"),
        (None, &[], &[("nope", "1")], "nope"),
        (
            None,
            &[],
            &[("auth.agentToken", "short")],
            "auth.agentToken",
        ),
        (None, &[], &[("storage.type", "mongo")], "storage.type"),
        (
            Some(
                "[storage]\ntype = \"cassandra\"\n[storage.cassandra]\nreplicationStrategy = \"Bogus\"",
            ),
            &[],
            &[],
            "storage.cassandra.replicationStrategy",
        ),
        (None, &[], &[("listen", "not-an-ip")], "listen"),
        (
            None,
            &[],
            &[("crossOrigin.allowedOrigins", "no-scheme.example")],
            "crossOrigin.allowedOrigins",
        ),
        (
            None,
            &[],
            &[("domRestrictions", "/does/not/exist.json")],
            "domRestrictions",
        ),
    ];
    for (file, env, cli, needle) in cases {
        let err = load(*file, env, cli).expect_err(needle).to_string();
        assert!(err.contains(needle), "`{err}` should name `{needle}`");
    }
}

#[test]
fn cassandra_settings_are_parsed() {
    let c = load(
        Some(
            "[auth]\nagentToken = \"a-cluster-wide-agent-token\"\n[storage]\ntype = \"cassandra\"\n[storage.cassandra]\ncontactPoints = \"10.0.0.1:9042,10.0.0.2:9042\"\nreadConsistency = \"one\"\n[storage.cassandra.retention]\nhistory = \"7d\"\n",
        ),
        &[],
        &[],
    )
    .expect("cassandra");
    match c.storage {
        StorageConfig::Cassandra(cc) => {
            assert_eq!(cc.contact_points.len(), 2);
            assert_eq!(cc.read_consistency, "ONE");
            assert_eq!(cc.retention_history, Duration::from_secs(7 * 86400));
            assert_eq!(cc.replication_strategy, "NetworkTopologyStrategy");
            assert_eq!(cc.datacenter, "datacenter1");
            assert!(cc.username.is_empty());
        }
        other => panic!("expected cassandra, got {other:?}"),
    }
}

#[test]
fn durations_parse_with_units() {
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
    assert!(parse_duration("5 parsecs").is_err());
    assert!(parse_duration("").is_err());
}

#[test]
fn durations_take_humantime_forms_and_todays_numbers() {
    for (text, want) in [
        ("1h 30m", Duration::from_secs(5400)),
        ("2days", Duration::from_secs(2 * 86_400)),
        ("5min", Duration::from_secs(300)),
        ("1.5s", Duration::from_millis(1500)),
        ("0.5", Duration::from_millis(500)),
        (" 30 ", Duration::from_secs(30)),
    ] {
        assert_eq!(parse_duration(text), Ok(want), "{text}");
    }
    assert!(parse_duration("-5s").is_err());
    assert!(parse_duration("2000000000").is_err(), "beyond 1e9 s");
    // Integers and floats in a file are seconds; strings from any layer take units.
    let c = load(
        Some("[session]\nhelloTimeout = 0.25\nendedRetention = 90\n"),
        &[("COBROWSE_LIMITS_PING_INTERVAL", "1h 30m")],
        &[("limits.shutdownGrace", "\"2s\"")],
    )
    .expect("durations");
    assert_eq!(c.hello_timeout, Duration::from_millis(250));
    assert_eq!(c.ended_retention, Duration::from_secs(90));
    assert_eq!(c.ping_interval, Duration::from_secs(5400));
    assert_eq!(c.shutdown_grace, Duration::from_secs(2));
}

#[test]
fn defaults_are_written_in_humantime_form() {
    let d = defaults();
    for (option, want) in [
        ("session.maxInterval", "10m"),
        ("limits.pingInterval", "20s"),
        ("static.browserHardCacheDuration", "0s"),
        ("storage.cassandra.retention.history", "30days"),
    ] {
        let value = d.find_value(option).expect(option);
        assert_eq!(value.as_str(), Some(want), "{option}");
    }
}

#[test]
fn errors_name_the_layer_that_set_the_option() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cobrowse.toml");
    std::fs::write(&path, "port = 9000\n[session]\nmaxInterval = \"ten\"\n").expect("write");
    let load_with = |env: &[(&str, &str)], cli: &Overrides| {
        Config::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            cli,
        )
        .expect_err("invalid")
        .to_string()
    };
    let file = path.display().to_string();
    let err = load_with(&[], &Overrides::default());
    assert!(
        err.contains("`session.maxInterval`") && err.contains(&file),
        "{err}"
    );

    let env = [("COBROWSE_SESSION_MAX_INTERVAL", "forever")];
    let err = load_with(&env, &Overrides::default());
    assert!(
        err.contains("environment variable COBROWSE_SESSION_MAX_INTERVAL"),
        "{err}"
    );

    let mut cli = Overrides::default();
    cli.set("session.maxInterval", "soon");
    let err = load_with(&env, &cli);
    assert!(err.contains("flag --set session.maxInterval"), "{err}");

    // A value that deserializes but fails validation names its layer too; a named flag is
    // named as itself.
    let mut cli = Overrides::default();
    cli.set("session.maxInterval", "1m")
        .flag("--listen", "listen", "\"not-an-ip\"");
    let err = load_with(&[], &cli);
    assert!(err.contains("`listen` (from flag --listen)"), "{err}");
    let err = load_with(
        &[("COBROWSE_SESSION_HELLO_TIMEOUT", "0")],
        &overrides(&[("session.maxInterval", "1m")]),
    );
    assert!(
        err.contains(
            "`session.helloTimeout` (from environment variable COBROWSE_SESSION_HELLO_TIMEOUT)"
        ),
        "{err}"
    );

    // An unknown key in the file names the file; a flag's unknown option names the flag.
    std::fs::write(&path, "[session]\nbogus = 1\n").expect("write");
    let err = load_with(&[], &Overrides::default());
    assert!(
        err.contains("`session.bogus`") && err.contains(&file),
        "{err}"
    );
    let mut cli = Overrides::default();
    cli.set("session.bogus", "1");
    let err = load_with(&[], &cli);
    assert!(err.contains("`session.bogus` (from flag --set)"), "{err}");
}

#[test]
fn unreadable_and_malformed_files_are_told_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.toml");
    let err = Config::load(Some(&missing), [], &Overrides::default()).expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "port = \n").expect("write");
    let err = Config::load(Some(&bad), [], &Overrides::default()).expect_err("bad");
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    assert!(err.to_string().contains("bad.toml"), "{err}");
}

/// Every leaf of a figment dictionary as a dotted key.
fn dotted_keys(prefix: &str, dict: &figment::value::Dict, out: &mut Vec<String>) {
    for (key, value) in dict {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value.as_dict() {
            Some(inner) => dotted_keys(&path, inner, out),
            None => out.push(path),
        }
    }
}

/// The options in `server/README.md`'s "Configuration reference" table; `a.b.c` / `d` rows
/// stand for `a.b.c` and `a.b.d`.
fn readme_options() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("## Configuration reference")
        .nth(1)
        .expect("README has a Configuration reference section");
    let mut out = Vec::new();
    for row in table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let first = row.split('|').nth(1).expect("a cell").trim();
        let mut names = first.split(" / ").map(|n| n.trim().trim_matches('`'));
        let full = names.next().expect("an option").to_string();
        let parent = full.rsplit_once('.').map(|(p, _)| p.to_string());
        out.push(full);
        for short in names {
            out.push(match &parent {
                Some(p) => format!("{p}.{short}"),
                None => short.to_string(),
            });
        }
    }
    out
}

#[test]
fn option_list_fields_and_readme_agree() {
    let defaults = defaults();
    let dict = defaults
        .data()
        .expect("defaults serialize")
        .remove(&figment::Profile::Default)
        .expect("default profile");
    let mut fields = Vec::new();
    dotted_keys("", &dict, &mut fields);
    let mut options: Vec<String> = OPTIONS.iter().map(|o| o.to_string()).collect();
    let mut readme = readme_options();
    for list in [&mut fields, &mut options, &mut readme] {
        list.sort();
    }
    assert_eq!(options, fields, "OPTIONS vs the raw sections' fields");
    assert_eq!(options, readme, "OPTIONS vs server/README.md's table");
    // Every option's environment variable leads back to it.
    for option in OPTIONS {
        assert_eq!(options::option_for_env(&env_name(option)), Some(*option));
    }
}

#[test]
fn proxies_limits_and_the_metrics_listener_are_read_and_checked() {
    let c = load(
        Some("[network]\ntrustedProxies = [\"10.0.0.0/8\", \"::1\"]\n[metrics]\nlisten = \"127.0.0.1:9700\"\n"),
        &[("COBROWSE_LIMITS_CREATES_PER_MINUTE", "5")],
        &[("limits.pendingConnectionsPerAddress", "4")],
    )
    .expect("valid");
    assert!(
        c.trusted_proxies
            .trusts_peer("10.1.2.3".parse().expect("ip"))
    );
    assert!(
        !c.trusted_proxies
            .trusts_peer("192.0.2.1".parse().expect("ip"))
    );
    assert_eq!(
        c.metrics_listen,
        Some("127.0.0.1:9700".parse().expect("addr"))
    );
    assert_eq!(
        (c.creates_per_minute, c.pending_connections_per_address),
        (5, 4)
    );
    // Off and empty by default: metrics nowhere, no proxy believed.
    let d = Config::default();
    assert_eq!(d.metrics_listen, None);
    assert!(d.trusted_proxies.is_empty());
    // The compatibility option trusts the peer, whatever it is.
    let compat = load(
        None,
        &[("COBROWSE_CROSS_ORIGIN_TRUST_FORWARDED_FOR", "true")],
        &[],
    )
    .expect("valid");
    assert!(
        compat
            .trusted_proxies
            .trusts_peer("192.0.2.1".parse().expect("ip"))
    );

    for (option, value, says) in [
        ("network.trustedProxies", "10.0.0.0/8,nope", "`nope`"),
        ("metrics.listen", "nowhere", "address:port"),
        (
            "limits.pendingConnectionsPerAddress",
            "300",
            "connectionsPerAddress",
        ),
        ("limits.helloMaxBytes", "0", "positive"),
        ("limits.cacheBytes", "1024", "maxLogBytes"),
        ("limits.createBurst", "0", "positive"),
    ] {
        let err = load(None, &[], &[(option, value)])
            .expect_err(option)
            .to_string();
        assert!(
            err.contains(option) && err.contains(says),
            "{option}: {err}"
        );
    }
}
