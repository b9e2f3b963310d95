//! `[auth]`: the credentials agents and controllers must present, and the one option that lifts
//! that requirement (`auth.allowAnonymousAgents`, named so that nobody switches it on by accident).
//!
//! Two kinds of credential, either or both: a shared agent token (`auth.agentToken`; when neither
//! kind is configured the server generates one into the data directory at start, see
//! `crate::auth::generated`), and JWTs signed by the agent desktop (`auth.jwt.*`: an HS256 secret
//! or an RS256 / ES256 public key), whose `sub` is the agent's identity.
//!
//! The supervisor role (the console under `/cobrowse/admin/`, the `supervisor/…` REST endpoints)
//! is nobody's unless configured: a separate `auth.supervisorToken`, and/or JWTs carrying
//! `"role": "supervisor"` once `auth.jwt.acceptSupervisorRole` says the desktop's claim counts.

use super::error::{ConfigError, invalid};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `auth.*` as written.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawAuth {
    /// `auth.agentToken`; empty: generated at start unless JWTs or anonymous agents are configured.
    pub(crate) agent_token: String,
    /// `auth.allowAnonymousAgents`: agents and controllers need no credential at all.
    pub(crate) allow_anonymous_agents: bool,
    /// `auth.supervisorToken`: the supervisors' shared credential; empty: none.
    pub(crate) supervisor_token: String,
    /// `auth.jwt.*`.
    pub(crate) jwt: RawJwt,
}

/// `auth.jwt.*` as written; all empty: JWTs are not accepted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawJwt {
    /// `auth.jwt.secret`: HS256 shared secret.
    pub(crate) secret: String,
    /// `auth.jwt.publicKeyFile`: PEM public key (RSA → RS256, EC P-256 → ES256).
    pub(crate) public_key_file: PathBuf,
    /// `auth.jwt.issuer`: required `iss`, if set.
    pub(crate) issuer: String,
    /// `auth.jwt.audience`: required `aud`, if set.
    pub(crate) audience: String,
    /// `auth.jwt.acceptSupervisorRole`: a JWT with `"role": "supervisor"` is a supervisor.
    pub(crate) accept_supervisor_role: bool,
}

/// Who may act as an agent or controller, validated. Its `Debug` never shows the token.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// The shared agent token, when configured (or generated at start).
    pub agent_token: Option<String>,
    /// JWT verification, when configured.
    pub jwt: Option<JwtConfig>,
    /// No credential needed (`auth.allowAnonymousAgents`).
    pub allow_anonymous_agents: bool,
    /// The supervisors' shared credential (`auth.supervisorToken`), when configured. Never
    /// generated: nobody is a supervisor unless the operator says so.
    pub supervisor_token: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("agent_token", &self.agent_token.as_ref().map(|_| "<set>"))
            .field("jwt", &self.jwt)
            .field("allow_anonymous_agents", &self.allow_anonymous_agents)
            .field(
                "supervisor_token",
                &self.supervisor_token.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

impl AuthConfig {
    /// True when nothing is configured that an agent could present, and anonymous agents are not
    /// allowed: the server then generates a token at start.
    pub fn needs_generated_token(&self) -> bool {
        self.agent_token.is_none() && self.jwt.is_none() && !self.allow_anonymous_agents
    }
}

/// How agent JWTs are verified.
#[derive(Clone)]
pub struct JwtConfig {
    /// The one algorithm accepted (a token naming another is refused: no `alg` confusion).
    pub algorithm: Algorithm,
    /// The HS256 secret or the public key.
    pub key: DecodingKey,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// A JWT whose `role` claim is `"supervisor"` has the supervisor role
    /// (`auth.jwt.acceptSupervisorRole`); otherwise the claim is ignored.
    pub accept_supervisor_role: bool,
}

impl std::fmt::Debug for JwtConfig {
    // The key stays out of logs and debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("accept_supervisor_role", &self.accept_supervisor_role)
            .finish_non_exhaustive()
    }
}

/// An HS256 secret shorter than this is guessable offline from one token (RFC 7518 §3.2 asks for
/// a key at least as long as the hash output).
const MIN_JWT_SECRET: usize = 32;

impl RawAuth {
    /// The credentials; a short token or secret, an unreadable key, or both key kinds at once are
    /// refused, naming the option.
    pub(crate) fn validate(&self) -> Result<AuthConfig, ConfigError> {
        let agent_token = match self.agent_token.trim() {
            "" => None,
            t if t.len() < 16 => {
                return Err(invalid(
                    "auth.agentToken",
                    "must be at least 16 characters (or empty: then JWTs, a generated token or \
                     auth.allowAnonymousAgents)",
                ));
            }
            t => Some(t.to_string()),
        };
        let supervisor_token = match self.supervisor_token.trim() {
            "" => None,
            t if t.len() < 16 => {
                return Err(invalid(
                    "auth.supervisorToken",
                    "must be at least 16 characters (or empty: no supervisor token)",
                ));
            }
            t if agent_token.as_deref() == Some(t) => {
                return Err(invalid(
                    "auth.supervisorToken",
                    "must differ from auth.agentToken (every agent would be a supervisor)",
                ));
            }
            t => Some(t.to_string()),
        };
        Ok(AuthConfig {
            agent_token,
            jwt: self.jwt.validate()?,
            allow_anonymous_agents: self.allow_anonymous_agents,
            supervisor_token,
        })
    }
}

impl RawJwt {
    fn validate(&self) -> Result<Option<JwtConfig>, ConfigError> {
        let secret = self.secret.trim();
        let key_file = &self.public_key_file;
        let has_key = !key_file.as_os_str().is_empty();
        let (algorithm, key) = match (secret.is_empty(), has_key) {
            (true, false) => {
                if self.accept_supervisor_role {
                    return Err(invalid(
                        "auth.jwt.acceptSupervisorRole",
                        "needs auth.jwt.secret or auth.jwt.publicKeyFile",
                    ));
                }
                for (option, value) in [
                    ("auth.jwt.issuer", &self.issuer),
                    ("auth.jwt.audience", &self.audience),
                ] {
                    if !value.trim().is_empty() {
                        return Err(invalid(
                            option,
                            "needs auth.jwt.secret or auth.jwt.publicKeyFile",
                        ));
                    }
                }
                return Ok(None);
            }
            (false, true) => {
                return Err(invalid(
                    "auth.jwt.secret",
                    "set either auth.jwt.secret (HS256) or auth.jwt.publicKeyFile (RS256/ES256), \
                     not both",
                ));
            }
            (false, false) if secret.len() < MIN_JWT_SECRET => {
                return Err(invalid(
                    "auth.jwt.secret",
                    format!("must be at least {MIN_JWT_SECRET} bytes"),
                ));
            }
            (false, false) => (
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes())
                    .map_err(|e| invalid("auth.jwt.secret", e.to_string()))?,
            ),
            (true, true) => public_key(key_file)?,
        };
        let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Some(JwtConfig {
            algorithm,
            key,
            issuer: nonempty(&self.issuer),
            audience: nonempty(&self.audience),
            accept_supervisor_role: self.accept_supervisor_role,
        }))
    }
}

/// Reads a PEM public key: an RSA key verifies RS256, an EC (P-256) key ES256.
fn public_key(path: &std::path::Path) -> Result<(Algorithm, DecodingKey), ConfigError> {
    let option = "auth.jwt.publicKeyFile";
    let pem = std::fs::read(path)
        .map_err(|e| invalid(option, format!("cannot read {}: {e}", path.display())))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((Algorithm::RS256, key));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        return Ok((Algorithm::ES256, key));
    }
    Err(invalid(
        option,
        format!(
            "{} is not a PEM RSA or EC public key (`-----BEGIN PUBLIC KEY-----`)",
            path.display()
        ),
    ))
}
