//! Who may watch, who is the customer, and where URLs come from — each test an attack a stranger
//! who knows (or guesses) a 9-digit session number would try, with frames and requests written
//! by hand, against a server whose agent credential is the default one: generated at start.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::{ErrorCode, Hello, Message, Role, SessionEvent};
use cobrowse_server::config::{AuthConfig, JwtConfig};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server with every auth default (nothing configured: a token is generated into `dir/data`),
/// and that token as read from the file an operator would read.
async fn default_server(dir: &Path) -> Result<(TestServer, String)> {
    let server = TestServer::start_in(dir, |c| c.auth = AuthConfig::default()).await?;
    // `run` writes the token before it serves; the health check proves it is serving.
    http("GET", &server.url("/cobrowse/health"), &[], None).await?;
    let token = std::fs::read_to_string(dir.join("data").join("agent-token"))
        .context("the generated agent token file")?;
    Ok((server, token.trim().to_string()))
}

fn agent_with(token: &str, auth: Option<&str>, agent_id: &str) -> Message {
    Message::Hello(Hello {
        role: Role::Agent,
        token: token.into(),
        auth: auth.map(String::from),
        agent_id: Some(agent_id.into()),
        resume_from: None,
        client: "attacker".into(),
        link: None,
        observe: false,
    })
}

async fn refused(server: &TestServer, hello: Message) -> Result<String> {
    let mut ws = connect(server, None).await?;
    send(&mut ws, &hello).await?;
    expect_refusal(&mut ws, ErrorCode::Unauthorized, 1008).await
}

#[tokio::test]
async fn with_every_default_the_number_alone_lets_no_agent_or_controller_in() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, agent_token) = default_server(dir.path()).await?;
    assert_eq!(agent_token.len(), 64, "256 random bits, hex");
    let (token, _, _) = server.create_session().await?;
    let _customer = join(&server, hello(Role::Customer, &token)).await?;

    for role in [Role::Agent, Role::Controller] {
        let reason = refused(&server, hello_with(role, &token, None)).await?;
        assert!(reason.contains("credential is required"), "{reason}");
        refused(
            &server,
            hello_with(role, &token, Some("0123456789abcdef0123")),
        )
        .await?;
        // The test suite's own token is not this server's.
        refused(&server, hello(role, &token)).await?;
    }
    // REST tells a stranger nothing either.
    let lookup = server.url(&format!("/cobrowse/rest/live/sessions/{token}"));
    let r = http("GET", &lookup, &[], None).await?;
    assert_eq!(
        (r.status, r.json()?["error"]["code"].clone()),
        (401, "unauthorized".into())
    );

    // The operator's token (from the data directory) lets both in.
    let _agent = join(&server, agent_with(&token, Some(&agent_token), "ann")).await?;
    let _controller = join(
        &server,
        hello_with(Role::Controller, &token, Some(&agent_token)),
    )
    .await?;
    let bearer = format!("Bearer {agent_token}");
    let r = http("GET", &lookup, &[("Authorization", &bearer)], None).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop().await
}

#[tokio::test]
async fn the_generated_token_survives_a_restart_and_is_private() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, first) = default_server(dir.path()).await?;
    server.stop().await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data/agent-token"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the server's user may read it");
    }
    let (server, second) = default_server(dir.path()).await?;
    assert_eq!(first, second, "agents' links keep working across restarts");
    let (token, _, _) = server.create_session().await?;
    join(&server, agent_with(&token, Some(&first), "ann")).await?;
    server.stop().await
}

#[tokio::test]
async fn an_impostor_customer_is_refused_and_the_real_one_stays_connected() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, created) = server.create_session().await?;
    let secret = created["customerSecret"]
        .as_str()
        .context("customerSecret")?
        .to_string();
    assert!(secret.len() >= 32, "high entropy: {secret}");
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    send(&mut customer, &snapshot("the-real-page")).await?;
    let mut agent = join(&server, agent_hello(&token, "ann")).await?;
    until(&mut agent, |m| {
        snapshot_marker(m).as_deref() == Some("the-real-page")
    })
    .await?;

    let (other, _, other_created) = server.create_session().await?;
    let other_secret = other_created["customerSecret"]
        .as_str()
        .context("secret")?
        .to_string();
    assert_ne!(other, token);
    for (auth, what) in [
        (None, "no secret"),
        (Some("0".repeat(64)), "a wrong secret"),
        (Some(other_secret.clone()), "another session's secret"),
        (
            Some(crate::common::TEST_AGENT_TOKEN.to_string()),
            "an agent credential",
        ),
    ] {
        let reason = refused(&server, hello_with(Role::Customer, &token, auth.as_deref()))
            .await
            .with_context(|| what.to_string())?;
        assert!(reason.contains("customer secret"), "{what}: {reason}");
    }
    // The real customer was not displaced: its socket still answers, and the agent still gets its
    // page, not an impostor's.
    sync(&mut customer).await?;
    send(&mut customer, &nav(2, "still me")).await?;
    let m = until(&mut agent, |m| nav_index(m).is_some()).await?;
    assert_eq!(nav_index(&m), Some(2));

    // A reconnect with the secret (after a navigation, say) is the customer; it replaces the old
    // connection as before.
    let mut again = join(&server, hello_with(Role::Customer, &token, Some(&secret))).await?;
    let (code, _, _) = until_close(&mut customer).await?;
    assert_eq!(
        code, 1008,
        "the older connection of the same customer is replaced"
    );
    sync(&mut again).await?;
    server.stop().await
}

#[tokio::test]
async fn a_strangers_stop_is_refused_the_parties_stop_with_their_credentials() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let stop = |t: &str| server.url(&format!("/cobrowse/rest/live/sessions/{t}/stop"));
    let state = |t: &str| {
        let url = server.url(&format!("/cobrowse/rest/live/sessions/{t}"));
        async move {
            let r = http("GET", &url, &[AGENT_AUTH], None).await?;
            Ok::<_, anyhow::Error>(r.json()?["state"].as_str().unwrap_or_default().to_string())
        }
    };
    let (by_customer, _, created) = server.create_session().await?;
    let (by_agent, _, other) = server.create_session().await?;
    let other_secret = format!(
        "Bearer {}",
        other["customerSecret"].as_str().context("secret")?
    );
    for headers in [
        vec![],
        vec![("Authorization", "Bearer 123456789")],
        vec![("Authorization", other_secret.as_str())],
    ] {
        let r = http("POST", &stop(&by_customer), &headers, None).await?;
        assert_eq!(r.status, 401, "{headers:?}: {}", r.body);
        assert_eq!(r.json()?["error"]["code"], "unauthorized");
    }
    assert_eq!(state(&by_customer).await?, "idle", "the session goes on");

    let own = format!(
        "Bearer {}",
        created["customerSecret"].as_str().context("secret")?
    );
    let r = http(
        "POST",
        &stop(&by_customer),
        &[("Authorization", &own)],
        None,
    )
    .await?;
    assert_eq!(
        (r.status, r.json()?["state"].clone()),
        (200, "ended".into())
    );
    assert_eq!(state(&by_customer).await?, "ended");
    let r = http("POST", &stop(&by_agent), &[AGENT_AUTH], None).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(state(&by_agent).await?, "ended");
    server.stop().await
}

#[tokio::test]
async fn history_needs_the_agent_credential() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (_, history_id, created) = server.create_session().await?;
    let url = server.url(&format!("/cobrowse/rest/history/sessions/{history_id}"));
    let own = format!(
        "Bearer {}",
        created["customerSecret"].as_str().context("secret")?
    );
    for headers in [vec![], vec![("Authorization", own.as_str())]] {
        let r = http("GET", &url, &headers, None).await?;
        assert_eq!(r.status, 401, "{headers:?}: {}", r.body);
        assert_eq!(r.json()?["error"]["code"], "unauthorized");
    }
    let r = http("GET", &url, &[AGENT_AUTH], None).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()?["historyId"], history_id.as_str());
    server.stop().await
}

/// One HTTP/1.1 request written byte for byte (a client library would fix the `Host` header).
async fn raw_request(server: &TestServer, head: &str, body: &str) -> Result<(u16, String)> {
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await?;
    let request = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut answer)).await??;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("a status line")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

#[tokio::test]
async fn urls_handed_to_clients_come_from_configuration_never_from_host() -> Result<()> {
    let spoof =
        "Host: evil.example:4444\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example";
    let unconfigured = TestServer::start(|_| {}).await?;
    let (status, body) = raw_request(
        &unconfigured,
        &format!("POST /cobrowse/rest/live/sessions HTTP/1.1\r\n{spoof}"),
        "{}",
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body)?;
    assert!(!body.contains("evil"), "{body}");
    assert_eq!(
        (&created["serverUrl"], &created["wsUrl"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    unconfigured.stop().await?;

    let configured = TestServer::start(|c| c.server_url = "https://cb1.example.com".into()).await?;
    let (status, body) = raw_request(
        &configured,
        &format!("POST /cobrowse/rest/live/sessions HTTP/1.1\r\n{spoof}"),
        "{}",
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(created["serverUrl"], "https://cb1.example.com");
    assert_eq!(created["wsUrl"], "wss://cb1.example.com/cobrowse/ws");
    let token = created["token"].as_str().context("token")?;
    let (status, body) = raw_request(
        &configured,
        &format!(
            "GET /cobrowse/rest/live/sessions/{token} HTTP/1.1\r\n{spoof}\r\nAuthorization: Bearer {TEST_AGENT_TOKEN}"
        ),
        "",
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let lookup: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(lookup["wsUrl"], "wss://cb1.example.com/cobrowse/ws");
    assert_eq!(lookup["node"]["url"], "https://cb1.example.com");

    // The agent page may open sockets to its own origin and that configured URL, nothing else,
    // and only its own origin may frame it.
    let slave = http(
        "GET",
        &configured.url("/cobrowse/slave.html"),
        &[("Host", "evil.example")],
        None,
    )
    .await?;
    let csp = slave
        .header("content-security-policy")
        .context("CSP")?
        .to_string();
    let connect = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .context("connect-src")?;
    assert_eq!(
        connect,
        "connect-src 'self' https://cb1.example.com wss://cb1.example.com"
    );
    assert!(csp.trim_end().ends_with("frame-ancestors 'self'"), "{csp}");
    configured.stop().await
}

/// A JWT signed with `key` for `claims`.
fn jwt(alg: Algorithm, key: &EncodingKey, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, key).expect("signs")
}

fn in_seconds(s: i64) -> i64 {
    (cobrowse_common::clock::now_ms() / 1000) as i64 + s
}

#[tokio::test]
async fn agents_may_present_a_jwt_from_their_desktop_and_its_sub_is_who_they_are() -> Result<()> {
    const SECRET: &str = "the-agent-desktop-hs256-secret-0123456789";
    let key = EncodingKey::from_secret(SECRET.as_bytes())?;
    let server = TestServer::start(|c| {
        c.auth.jwt = Some(JwtConfig {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(SECRET.as_bytes()).expect("key"),
            issuer: Some("https://desk.example".into()),
            audience: None,
            accept_supervisor_role: false,
        });
    })
    .await?;
    let claims = |sub: &str, exp: i64| serde_json::json!({"sub": sub, "exp": exp, "iss": "https://desk.example"});
    let (token, history_id, _) = server.create_session().await?;
    let mut customer = join(&server, hello(Role::Customer, &token)).await?;

    let expired = jwt(Algorithm::HS256, &key, claims("jane", in_seconds(-3600)));
    let reason = refused(&server, agent_with(&token, Some(&expired), "jane")).await?;
    assert!(reason.contains("expired"), "{reason}");
    let forged = jwt(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"not-the-desktop-secret-but-long-enough!")?,
        claims("jane", in_seconds(600)),
    );
    refused(&server, agent_with(&token, Some(&forged), "jane")).await?;
    let foreign = jwt(
        Algorithm::HS256,
        &key,
        serde_json::json!({"sub": "jane", "exp": in_seconds(600), "iss": "https://evil.example"}),
    );
    refused(&server, agent_with(&token, Some(&foreign), "jane")).await?;

    // Valid: welcomed, and the desktop's `sub` is the identity, not what the page declared.
    let good = jwt(Algorithm::HS256, &key, claims("jane@desk", in_seconds(600)));
    let _agent = join(&server, agent_with(&token, Some(&good), "whoever-i-say")).await?;
    let joined = until(&mut customer, |m| {
        matches!(m, Message::Session(SessionEvent::AgentJoined { .. }))
    })
    .await?;
    assert_eq!(
        joined,
        Message::Session(SessionEvent::AgentJoined {
            agent_id: Some("jane@desk".into()),
            agents: 1
        })
    );
    // The agent limit (1) counts the identity: another declared id does not get jane a second
    // session.
    let (second, _, _) = server.create_session().await?;
    let _c2 = join(&server, hello(Role::Customer, &second)).await?;
    let mut again = connect(&server, None).await?;
    send(
        &mut again,
        &agent_with(&second, Some(&good), "someone-else"),
    )
    .await?;
    expect_refusal(&mut again, ErrorCode::AgentBusy, 1008).await?;
    // History records the identity; REST accepts the JWT too.
    let bearer = format!("Bearer {good}");
    let url = server.url(&format!("/cobrowse/rest/history/sessions/{history_id}"));
    let h = http("GET", &url, &[("Authorization", &bearer)], None).await?;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.json()?["agentId"], "jane@desk");
    server.stop().await
}

#[tokio::test]
async fn an_asymmetric_desktop_key_verifies_es256_jwts() -> Result<()> {
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)?;
    let pair = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?;
    let signing = EncodingKey::from_ec_pem(&pair.private_key_to_pem_pkcs8()?)?;
    let verifying = DecodingKey::from_ec_pem(&pair.public_key_to_pem()?)?;
    let other = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?;
    let impostor = EncodingKey::from_ec_pem(&other.private_key_to_pem_pkcs8()?)?;
    let server = TestServer::start(|c| {
        c.auth.agent_token = None;
        c.auth.jwt = Some(JwtConfig {
            algorithm: Algorithm::ES256,
            key: verifying,
            issuer: None,
            audience: Some("cobrowse".into()),
            accept_supervisor_role: false,
        });
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    let claims = serde_json::json!({"sub": "sam", "exp": in_seconds(600), "aud": "cobrowse"});
    refused(
        &server,
        agent_with(
            &token,
            Some(&jwt(Algorithm::ES256, &impostor, claims.clone())),
            "sam",
        ),
    )
    .await?;
    let wrong_aud = serde_json::json!({"sub": "sam", "exp": in_seconds(600), "aud": "other"});
    refused(
        &server,
        agent_with(
            &token,
            Some(&jwt(Algorithm::ES256, &signing, wrong_aud)),
            "sam",
        ),
    )
    .await?;
    // The static token of the test suite is not configured here.
    refused(&server, hello(Role::Agent, &token)).await?;
    let good = jwt(Algorithm::ES256, &signing, claims);
    join(&server, agent_with(&token, Some(&good), "sam")).await?;
    join(&server, hello_with(Role::Controller, &token, Some(&good))).await?;
    server.stop().await
}

#[tokio::test]
async fn anonymous_agents_need_the_option_that_says_so() -> Result<()> {
    let server = TestServer::start(|c| {
        c.auth = AuthConfig {
            allow_anonymous_agents: true,
            ..AuthConfig::default()
        }
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    join(&server, agent_with(&token, None, "anyone")).await?;
    // The customer still needs its secret: anonymous agents do not make anyone the customer.
    refused(&server, hello_with(Role::Customer, &token, None)).await?;
    server.stop().await
}

#[test]
fn the_binary_logs_the_agent_page_url_with_the_token_in_its_fragment() -> Result<()> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cobrowse-server"))
        .args(["--listen", "127.0.0.1", "--port", "0", "--static-dir"])
        .arg(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .env_remove("COBROWSE_AUTH_AGENT_TOKEN")
        .env_remove("COBROWSE_AUTH_ALLOW_ANONYMOUS_AGENTS")
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
    let mut url = None;
    while let Ok(line) = rx.recv_timeout(WAIT) {
        if let Some(at) = line.find("http://") {
            url = line[at..].split_whitespace().next().map(String::from);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let url = url.context("no agent page URL logged at start")?;
    let token = std::fs::read_to_string(data.join("agent-token"))?;
    let (page, fragment) = url.split_once('#').context("a fragment")?;
    if page.contains('?') || !page.ends_with("/cobrowse/slave.html") {
        bail!("the credential must ride in the fragment of the agent page URL: {url}");
    }
    assert_eq!(fragment, format!("auth={}", token.trim()));
    Ok(())
}
