//! [`AgentAuth`]: checks the credential an agent or controller presents (`Hello.auth`, or
//! `Authorization: Bearer …` on REST) against what `auth.*` configures.
//!
//! * **Agent token** — one shared secret, compared in constant time. The agent's identity is what
//!   it declares (`Hello.agent_id`).
//! * **JWT** — signed by the agent desktop with the configured HS256 secret or the private half of
//!   the configured RS256 / ES256 key; only that one algorithm is accepted (a token naming another
//!   is refused, so a public key can never be used as an HMAC secret). `exp` and `sub` are
//!   required, `iss` / `aud` when configured. `sub` is the agent's identity: it replaces a declared
//!   `agent_id` for the agent limit, history and logs, because the desktop vouches for it and the
//!   agent page does not.
//! * **Supervisor** — the separate `auth.supervisorToken`, or a JWT with `"role": "supervisor"`
//!   when `auth.jwt.acceptSupervisorRole` is on: an agent credential that also opens the
//!   supervisor console. Nothing else makes one, anonymous agents included.
//! * **Anonymous** — only with `auth.allowAnonymousAgents`: a missing credential passes; a
//!   presented one is still verified, and gives its identity when it is valid.

use crate::config::AuthConfig;
use jsonwebtoken::{Validation, decode};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use warp::http::HeaderMap;

/// Longest `sub` taken as an identity (it is logged and stored with the history).
const MAX_SUBJECT: usize = 256;

/// Verifies agent credentials (one per server, built from the validated configuration).
pub struct AgentAuth {
    token: Option<String>,
    supervisor_token: Option<String>,
    jwt: Option<(Validation, jsonwebtoken::DecodingKey)>,
    jwt_roles: bool,
    anonymous: bool,
}

/// A credential that passed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified {
    /// The agent's identity from a JWT (`sub`); `None` for the agent token or no credential.
    pub subject: Option<String>,
    /// The credential carries the supervisor role (the supervisor token, or an accepted JWT
    /// `role` claim).
    pub supervisor: bool,
}

/// The JWT `role` claim value that makes a supervisor (with `auth.jwt.acceptSupervisorRole`).
pub const SUPERVISOR_ROLE: &str = "supervisor";

/// Why a credential did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentRefusal {
    /// Nothing was presented.
    #[error("an agent credential is required (the agent token or a JWT from the agent desktop)")]
    Missing,
    /// A JWT whose `exp` has passed.
    #[error("the agent credential has expired")]
    Expired,
    /// Anything else: not the token, not a JWT this server accepts.
    #[error("the agent credential is not valid")]
    Invalid,
}

/// The claims read from an agent JWT (`exp`, `iss`, `aud` are checked by the library).
#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// The agent desktop's word on the agent's role; only `"supervisor"` means anything, and
    /// only when configured.
    #[serde(default)]
    role: Option<String>,
}

impl AgentAuth {
    /// The verifier for `config` (the generated token, if any, is already in it).
    pub fn new(config: &AuthConfig) -> AgentAuth {
        let jwt = config.jwt.as_ref().map(|j| {
            let mut v = Validation::new(j.algorithm);
            v.set_required_spec_claims(&["exp", "sub"]);
            match &j.issuer {
                Some(iss) => v.set_issuer(&[iss]),
                None => v.iss = None,
            }
            match &j.audience {
                Some(aud) => v.set_audience(&[aud]),
                // Without a configured audience, a token's `aud` is not ours to judge.
                None => v.validate_aud = false,
            }
            (v, j.key.clone())
        });
        AgentAuth {
            token: config.agent_token.clone(),
            supervisor_token: config.supervisor_token.clone(),
            jwt,
            jwt_roles: config
                .jwt
                .as_ref()
                .is_some_and(|j| j.accept_supervisor_role),
            anonymous: config.allow_anonymous_agents,
        }
    }

    /// True when agents need no credential (`auth.allowAnonymousAgents`).
    pub fn anonymous_allowed(&self) -> bool {
        self.anonymous
    }

    /// Checks a presented credential (`None` or empty: none presented).
    pub fn verify(&self, presented: Option<&str>) -> Result<Verified, AgentRefusal> {
        let presented = presented.map(str::trim).filter(|p| !p.is_empty());
        let result = match presented {
            None => Err(AgentRefusal::Missing),
            Some(p) => self.check(p),
        };
        match result {
            Err(why) if self.anonymous => {
                if presented.is_some() {
                    tracing::debug!(%why, "agent credential ignored: anonymous agents are allowed");
                }
                Ok(Verified::default())
            }
            other => other,
        }
    }

    /// Checks `Authorization: Bearer <credential>`.
    pub fn verify_headers(&self, headers: &HeaderMap) -> Result<Verified, AgentRefusal> {
        self.verify(bearer(headers))
    }

    fn check(&self, presented: &str) -> Result<Verified, AgentRefusal> {
        let is = |token: &Option<String>| {
            token
                .as_ref()
                .is_some_and(|t| bool::from(presented.as_bytes().ct_eq(t.as_bytes())))
        };
        if is(&self.token) {
            return Ok(Verified::default());
        }
        if is(&self.supervisor_token) {
            return Ok(Verified {
                subject: None,
                supervisor: true,
            });
        }
        let Some((validation, key)) = &self.jwt else {
            return Err(AgentRefusal::Invalid);
        };
        match decode::<Claims>(presented, key, validation) {
            Ok(data) => {
                let sub = data.claims.sub.trim();
                if sub.is_empty() || sub.len() > MAX_SUBJECT || sub.contains(char::is_control) {
                    return Err(AgentRefusal::Invalid);
                }
                Ok(Verified {
                    subject: Some(sub.to_string()),
                    supervisor: self.jwt_roles
                        && data.claims.role.as_deref() == Some(SUPERVISOR_ROLE),
                })
            }
            Err(e) => {
                tracing::debug!(error = %e, "agent JWT refused");
                Err(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AgentRefusal::Expired,
                    _ => AgentRefusal::Invalid,
                })
            }
        }
    }
}

/// The credential of `Authorization: Bearer <credential>` (scheme case-insensitive), if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, credential) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JwtConfig;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};

    const SECRET: &str = "an-hs256-secret-of-thirty-two-bytes!";

    fn jwt(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
        )
        .expect("encodes")
    }

    fn now() -> u64 {
        cobrowse_common::clock::now_ms() / 1000
    }

    fn auth(token: Option<&str>, issuer: Option<&str>, anonymous: bool) -> AgentAuth {
        AgentAuth::new(&AuthConfig {
            agent_token: token.map(String::from),
            jwt: Some(JwtConfig {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(SECRET.as_bytes()).expect("key"),
                issuer: issuer.map(String::from),
                audience: None,
                accept_supervisor_role: false,
            }),
            allow_anonymous_agents: anonymous,
            supervisor_token: None,
        })
    }

    fn supervised(supervisor_token: Option<&str>, roles: bool) -> AgentAuth {
        AgentAuth::new(&AuthConfig {
            agent_token: Some("a-long-agent-token-123".into()),
            jwt: Some(JwtConfig {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(SECRET.as_bytes()).expect("key"),
                issuer: None,
                audience: None,
                accept_supervisor_role: roles,
            }),
            allow_anonymous_agents: false,
            supervisor_token: supervisor_token.map(String::from),
        })
    }

    #[test]
    fn nobody_is_a_supervisor_unless_configured() {
        let role = jwt(
            serde_json::json!({"sub": "sue", "role": "supervisor", "exp": now() + 600}),
            SECRET,
        );
        // Neither a supervisor token nor accepted roles: the claim is ignored.
        let plain = supervised(None, false);
        assert_eq!(
            plain.verify(Some(&role)),
            Ok(Verified {
                subject: Some("sue".into()),
                supervisor: false
            })
        );
        assert!(
            !plain
                .verify(Some("a-long-agent-token-123"))
                .expect("agent")
                .supervisor
        );
        // The supervisor token is a supervisor (and an agent); the agent token is not.
        let token = supervised(Some("the-supervisors-token"), false);
        assert_eq!(
            token.verify(Some("the-supervisors-token")),
            Ok(Verified {
                subject: None,
                supervisor: true
            })
        );
        assert!(
            !token
                .verify(Some("a-long-agent-token-123"))
                .expect("agent")
                .supervisor
        );
        assert!(!token.verify(Some(&role)).expect("jwt").supervisor);
        // Accepted roles: only `role: supervisor` counts.
        let roles = supervised(None, true);
        assert!(roles.verify(Some(&role)).expect("jwt").supervisor);
        let agent_role = jwt(
            serde_json::json!({"sub": "al", "role": "agent", "exp": now() + 600}),
            SECRET,
        );
        assert!(!roles.verify(Some(&agent_role)).expect("jwt").supervisor);
        // Anonymous agents are never supervisors.
        assert!(
            !auth(None, None, true)
                .verify(None)
                .expect("anon")
                .supervisor
        );
    }

    #[test]
    fn the_token_or_a_valid_jwt_passes_and_the_jwt_names_the_agent() {
        let a = auth(Some("a-long-agent-token-123"), None, false);
        assert_eq!(
            a.verify(Some("a-long-agent-token-123")),
            Ok(Verified::default())
        );
        let t = jwt(
            serde_json::json!({"sub": "jane@desk", "exp": now() + 600}),
            SECRET,
        );
        assert_eq!(
            a.verify(Some(&t)),
            Ok(Verified {
                subject: Some("jane@desk".into()),
                supervisor: false
            })
        );
        assert_eq!(a.verify(None), Err(AgentRefusal::Missing));
        assert_eq!(a.verify(Some("  ")), Err(AgentRefusal::Missing));
        assert_eq!(
            a.verify(Some("a-long-agent-token-12")),
            Err(AgentRefusal::Invalid)
        );
    }

    #[test]
    fn expired_foreign_and_incomplete_jwts_are_refused() {
        let a = auth(None, Some("desk.example"), false);
        let expired = jwt(
            serde_json::json!({"sub": "a", "iss": "desk.example", "exp": now() - 3600}),
            SECRET,
        );
        assert_eq!(a.verify(Some(&expired)), Err(AgentRefusal::Expired));
        let other_key = jwt(
            serde_json::json!({"sub": "a", "iss": "desk.example", "exp": now() + 600}),
            "another-secret-of-thirty-two-bytes!!",
        );
        assert_eq!(a.verify(Some(&other_key)), Err(AgentRefusal::Invalid));
        let wrong_issuer = jwt(
            serde_json::json!({"sub": "a", "iss": "evil.example", "exp": now() + 600}),
            SECRET,
        );
        assert_eq!(a.verify(Some(&wrong_issuer)), Err(AgentRefusal::Invalid));
        let no_exp = jwt(
            serde_json::json!({"sub": "a", "iss": "desk.example"}),
            SECRET,
        );
        assert_eq!(a.verify(Some(&no_exp)), Err(AgentRefusal::Invalid));
        let no_sub = jwt(
            serde_json::json!({"iss": "desk.example", "exp": now() + 600}),
            SECRET,
        );
        assert_eq!(a.verify(Some(&no_sub)), Err(AgentRefusal::Invalid));
        // `alg: none` is never accepted.
        let unsigned = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", "eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ"
        );
        assert_eq!(a.verify(Some(&unsigned)), Err(AgentRefusal::Invalid));
    }

    #[test]
    fn anonymous_agents_pass_without_a_credential_and_keep_a_valid_identity() {
        let a = auth(None, None, true);
        assert_eq!(a.verify(None), Ok(Verified::default()));
        assert_eq!(a.verify(Some("garbage")), Ok(Verified::default()));
        let t = jwt(
            serde_json::json!({"sub": "sam", "exp": now() + 600}),
            SECRET,
        );
        assert_eq!(
            a.verify(Some(&t)).map(|v| v.subject),
            Ok(Some("sam".into()))
        );
    }

    #[test]
    fn bearer_reads_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "Bearer abc.def".parse().expect("header"));
        assert_eq!(bearer(&h), Some("abc.def"));
        h.insert("authorization", "bearer  xyz ".parse().expect("header"));
        assert_eq!(bearer(&h), Some("xyz"));
        h.insert("authorization", "Basic abc".parse().expect("header"));
        assert_eq!(bearer(&h), None);
    }
}
