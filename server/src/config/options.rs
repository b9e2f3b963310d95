//! The list of every option ([`OPTIONS`]) and the environment variable each one is read from.
//!
//! The list is what makes today's variable names unambiguous: `COBROWSE_STORAGE_DATA_DIR` could
//! be `storage.dataDir` or `storage.data.dir`; only the first is an option. A test ties it to
//! the raw sections' fields and to the table in `server/README.md`.

/// Every option, as a dotted TOML path. Environment variables are derived from these names
/// (`session.inactivityDuration` → `COBROWSE_SESSION_INACTIVITY_DURATION`).
pub const OPTIONS: &[&str] = &[
    "listen",
    "port",
    "nodeName",
    "serverUrl",
    "logLevel",
    "cluster.url",
    "cluster.internalUrl",
    "crossOrigin.allowedOrigins",
    "crossOrigin.trustForwardedFor",
    "network.trustedProxies",
    "network.websocketCompression",
    "proxy.allowedExternalDomains",
    "proxy.allowedThirdPartyDomains",
    "proxy.forwardProxy",
    "proxy.maxCssBytes",
    "proxy.connectTimeout",
    "proxy.timeout",
    "proxy.cacheBytes",
    "session.inactivityDuration",
    "session.maxInterval",
    "session.writeModeAllowed",
    "session.agentSessionsLimit",
    "session.helloTimeout",
    "session.endedRetention",
    "auth.agentToken",
    "auth.allowAnonymousAgents",
    "auth.supervisorToken",
    "auth.jwt.secret",
    "auth.jwt.publicKeyFile",
    "auth.jwt.issuer",
    "auth.jwt.audience",
    "auth.jwt.acceptSupervisorRole",
    "domRestrictions",
    "static.dir",
    "static.browserHardCacheDuration",
    "static.agentDesktopOrigins",
    "static.frameAncestors",
    "ui.locale",
    "ui.theme",
    "storage.type",
    "storage.dataDir",
    "storage.cassandra.contactPoints",
    "storage.cassandra.keyspace",
    "storage.cassandra.replicationStrategy",
    "storage.cassandra.replicationFactor",
    "storage.cassandra.datacenter",
    "storage.cassandra.username",
    "storage.cassandra.password",
    "storage.cassandra.tls.enabled",
    "storage.cassandra.tls.caFile",
    "storage.cassandra.tls.certFile",
    "storage.cassandra.tls.keyFile",
    "storage.cassandra.tls.verifyHostname",
    "storage.cassandra.nodeHeartbeat",
    "storage.cassandra.readConsistency",
    "storage.cassandra.writeConsistency",
    "storage.cassandra.retention.liveSessions",
    "storage.cassandra.retention.history",
    "storage.cassandra.retention.windowHistory",
    "limits.maxFrameBytes",
    "limits.maxNodes",
    "limits.maxDepth",
    "limits.maxStringBytes",
    "limits.maxDecodedBytes",
    "limits.helloMaxBytes",
    "limits.sendQueueFrames",
    "limits.minLogBytes",
    "limits.maxLogBytes",
    "limits.replayBytes",
    "limits.cacheBytes",
    "limits.maxPages",
    "limits.maxLiveSessions",
    "limits.pingInterval",
    "limits.lookupsPerMinute",
    "limits.lookupBurst",
    "limits.createsPerMinute",
    "limits.createBurst",
    "limits.connectionsPerAddress",
    "limits.pendingConnectionsPerAddress",
    "limits.shutdownGrace",
    "metrics.listen",
    "events.keepalive",
    "events.subscriberBuffer",
    "webhooks.urls",
    "webhooks.secret",
    "webhooks.allowInsecureHttp",
    "webhooks.queueSize",
    "webhooks.maxAttempts",
    "webhooks.timeout",
    "webhooks.retryBase",
    "webhooks.retryMax",
    "recording.enabled",
    "recording.origins",
    "recording.retention",
    "recording.chunkBytes",
    "recording.chunkInterval",
];

/// The environment variable for a dotted option name.
pub fn env_name(option: &str) -> String {
    let mut out = String::from("COBROWSE_");
    for ch in option.chars() {
        if ch == '.' {
            out.push('_');
        } else if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch);
        } else {
            out.push(ch.to_ascii_uppercase());
        }
    }
    out
}

/// The option an environment variable sets, if it names one (`COBROWSE_PORT` → `port`).
pub(crate) fn option_for_env(var: &str) -> Option<&'static str> {
    OPTIONS.iter().copied().find(|o| env_name(o) == var)
}
