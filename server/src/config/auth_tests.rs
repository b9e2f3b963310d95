//! The options that decide who may watch: `auth.*` (agent token, JWT keys, anonymous agents) and
//! who may frame the agent page (`static.agentDesktopOrigins`, `static.frameAncestors`).

use super::*;
use jsonwebtoken::Algorithm;

fn load_with(file: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, file).expect("write");
    Config::load(
        Some(&path),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        &Overrides::default(),
    )
}

/// A PEM public key file of a fresh key pair: RSA or EC P-256.
fn public_key_file(dir: &std::path::Path, rsa: bool) -> PathBuf {
    let pem = if rsa {
        let key = openssl::rsa::Rsa::generate(2048).expect("rsa");
        openssl::pkey::PKey::from_rsa(key)
            .expect("pkey")
            .public_key_to_pem()
            .expect("pem")
    } else {
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
            .expect("p256");
        let key = openssl::ec::EcKey::generate(&group).expect("ec");
        openssl::pkey::PKey::from_ec_key(key)
            .expect("pkey")
            .public_key_to_pem()
            .expect("pem")
    };
    let path = dir.join(if rsa { "rsa.pem" } else { "ec.pem" });
    std::fs::write(&path, pem).expect("write key");
    path
}

#[test]
fn by_default_agents_need_a_credential_and_one_is_generated() {
    let c = Config::default();
    assert_eq!(c.auth.agent_token, None);
    assert!(c.auth.jwt.is_none());
    assert!(!c.auth.allow_anonymous_agents);
    assert!(c.auth.needs_generated_token());
}

#[test]
fn anonymous_agents_need_the_option_that_says_so() {
    let c = load_with("", &[("COBROWSE_AUTH_ALLOW_ANONYMOUS_AGENTS", "true")]).expect("loads");
    assert!(c.auth.allow_anonymous_agents);
    assert!(!c.auth.needs_generated_token());
    let c = load_with("[auth]\nagentToken = \"sixteen-chars-or-more\"", &[]).expect("loads");
    assert_eq!(c.auth.agent_token.as_deref(), Some("sixteen-chars-or-more"));
    assert!(
        !format!("{c:?}").contains("sixteen-chars"),
        "the token stays out of debug output"
    );
    assert!(!c.auth.needs_generated_token());
}

#[test]
fn jwt_keys_choose_their_algorithm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = load_with(
        "[auth.jwt]\nsecret = \"an-hs256-secret-of-thirty-two-bytes!\"\nissuer = \"desk.example\"\naudience = \"cobrowse\"",
        &[],
    )
    .expect("hs256");
    let jwt = c.auth.jwt.expect("jwt configured");
    assert_eq!(jwt.algorithm, Algorithm::HS256);
    assert_eq!(jwt.issuer.as_deref(), Some("desk.example"));
    assert_eq!(jwt.audience.as_deref(), Some("cobrowse"));
    assert!(
        !format!("{jwt:?}").contains("thirty-two"),
        "the key stays out of debug output"
    );

    for (rsa, algorithm) in [(true, Algorithm::RS256), (false, Algorithm::ES256)] {
        let key = public_key_file(dir.path(), rsa);
        let c = load_with(
            "",
            &[("COBROWSE_AUTH_JWT_PUBLIC_KEY_FILE", &key.to_string_lossy())],
        )
        .expect("public key");
        assert!(!c.auth.needs_generated_token());
        assert_eq!(c.auth.jwt.expect("jwt").algorithm, algorithm);
    }
}

#[test]
fn bad_auth_settings_name_their_option() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
    )
    .expect("write");
    let key = public_key_file(dir.path(), false);
    let cases: Vec<(String, &str)> = vec![
        (
            "[auth.jwt]\nsecret = \"too-short\"".into(),
            "auth.jwt.secret",
        ),
        (
            format!(
                "[auth.jwt]\nsecret = \"an-hs256-secret-of-thirty-two-bytes!\"\npublicKeyFile = {:?}",
                key.display().to_string()
            ),
            "not both",
        ),
        (
            format!(
                "[auth.jwt]\npublicKeyFile = {:?}",
                not_a_key.display().to_string()
            ),
            "auth.jwt.publicKeyFile",
        ),
        (
            "[auth.jwt]\npublicKeyFile = \"/does/not/exist.pem\"".into(),
            "auth.jwt.publicKeyFile",
        ),
        (
            "[auth.jwt]\nissuer = \"desk.example\"".into(),
            "auth.jwt.issuer",
        ),
        (
            "[static]\nagentDesktopOrigins = [\"desk.example\"]".into(),
            "static.agentDesktopOrigins",
        ),
        (
            "[static]\nagentDesktopOrigins = [\"https://desk.example; script-src *\"]".into(),
            "static.agentDesktopOrigins",
        ),
        (
            "[storage]\ntype = \"cassandra\"".into(),
            "a cluster needs one agent credential",
        ),
    ];
    for (file, needle) in cases {
        let err = load_with(&file, &[]).expect_err(needle).to_string();
        assert!(err.contains(needle), "`{err}` should name `{needle}`");
    }
}

#[test]
fn only_the_agent_desktops_may_frame_the_agent_page() {
    let c = load_with(
        "[static]\nagentDesktopOrigins = [\"https://desk.example\", \"http://localhost:3000\"]",
        &[],
    )
    .expect("loads");
    assert_eq!(
        c.frame_ancestors,
        "'self' https://desk.example http://localhost:3000"
    );
    // Written out, the list replaces the derived one (an operator's explicit choice).
    let c = load_with("[static]\nframeAncestors = \"'none'\"", &[]).expect("loads");
    assert_eq!(c.frame_ancestors, "'none'");
}

#[test]
fn the_public_url_is_configured_or_absent() {
    assert_eq!(Config::default().public_url(), None);
    let c = load_with("[cluster]\nurl = \"https://lb.example\"", &[]).expect("loads");
    assert_eq!(c.public_url(), Some("https://lb.example"));
    let c = load_with(
        "serverUrl = \"https://cb1.example\"\n[cluster]\nurl = \"https://lb.example\"",
        &[],
    )
    .expect("loads");
    assert_eq!(c.public_url(), Some("https://cb1.example"));
}

#[test]
fn nobody_supervises_unless_configured_and_the_supervisor_token_is_checked() {
    let c = Config::default();
    assert_eq!(c.auth.supervisor_token, None);
    let c = load_with(
        "[auth]\nsupervisorToken = \"the-supervisors-own-token\"",
        &[],
    )
    .expect("loads");
    assert_eq!(
        c.auth.supervisor_token.as_deref(),
        Some("the-supervisors-own-token")
    );
    assert!(
        !format!("{c:?}").contains("supervisors-own"),
        "kept out of debug output"
    );
    // A supervisor token is no agent credential of its own: agents still get a generated one.
    assert!(c.auth.needs_generated_token());
    let c = load_with(
        "",
        &[("COBROWSE_AUTH_SUPERVISOR_TOKEN", "from-the-environment-1")],
    )
    .expect("loads from the environment");
    assert_eq!(
        c.auth.supervisor_token.as_deref(),
        Some("from-the-environment-1")
    );
    for (file, option) in [
        (
            "[auth]\nsupervisorToken = \"short\"",
            "auth.supervisorToken",
        ),
        (
            "[auth]\nagentToken = \"one-token-for-everyone\"\nsupervisorToken = \"one-token-for-everyone\"",
            "auth.supervisorToken",
        ),
        (
            "[auth.jwt]\nacceptSupervisorRole = true",
            "auth.jwt.acceptSupervisorRole",
        ),
    ] {
        let err = load_with(file, &[]).expect_err(file).to_string();
        assert!(err.contains(option), "{file}: {err}");
    }
    let c = load_with(
        "[auth.jwt]\nsecret = \"an-hs256-secret-of-thirty-two-bytes!\"\nacceptSupervisorRole = true",
        &[],
    )
    .expect("loads");
    assert!(c.auth.jwt.expect("jwt").accept_supervisor_role);
}
