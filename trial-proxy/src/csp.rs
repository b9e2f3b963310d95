//! Extending a site's Content-Security-Policy just enough for the snippet (README "Adding it to a
//! site"): the loader and the client's module from the proxy's own origin, `'wasm-unsafe-eval'`
//! for the client's wasm, and `connect-src` for the wasm, REST and the WebSocket.
//!
//! Extended, never dropped or loosened elsewhere: every directive the site wrote stays as it was
//! apart from the sources added here. Where a needed directive is absent and `default-src`
//! governs, a new directive is written with `default-src`'s sources plus ours, so images, styles
//! and fonts keep `default-src` unchanged. With `'strict-dynamic'` host sources are ignored, so
//! the injected script carries a nonce of ours instead; a nonce is never added otherwise, because
//! a nonce in a policy turns off its `'unsafe-inline'` and would break the site's inline scripts.

/// What the snippet needs from a policy.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    /// The WebSocket origin of the proxy, e.g. `ws://127.0.0.1:8780`.
    pub ws_origin: &'a str,
    /// The nonce the injected `<script>` carries (used only under `'strict-dynamic'`).
    pub nonce: &'a str,
}

/// A policy list after [`extend`], with what changed (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extended {
    /// The header or `<meta>` value to send.
    pub value: String,
    /// One line per change, e.g. `script-src += 'self' 'wasm-unsafe-eval'`; empty = unchanged.
    pub changes: Vec<String>,
    /// Directives that may still stop the client and that we leave to the site.
    pub warnings: Vec<String>,
}

struct Directive {
    name: String,
    /// The directive as the site wrote it, kept verbatim when we add nothing.
    text: String,
    sources: Vec<String>,
    added: Vec<String>,
    /// Created here from `default-src`.
    created: bool,
}

impl Directive {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split_ascii_whitespace();
        let name = parts.next()?.to_ascii_lowercase();
        Some(Self {
            name,
            text: text.trim().to_owned(),
            sources: parts.map(str::to_owned).collect(),
            added: Vec::new(),
            created: false,
        })
    }

    fn has(&self, source: &str) -> bool {
        self.sources
            .iter()
            .chain(&self.added)
            .any(|s| s.eq_ignore_ascii_case(source))
    }

    fn add(&mut self, source: &str) {
        if !self.has(source) {
            self.added.push(source.to_owned());
        }
    }

    fn render(&self) -> String {
        if self.added.is_empty() && !self.created {
            return self.text.clone();
        }
        // 'none' combined with sources is ignored by browsers (with a warning): drop it.
        let kept = self
            .sources
            .iter()
            .filter(|s| !s.eq_ignore_ascii_case("'none'"));
        let mut out = self.name.clone();
        for s in kept.chain(&self.added) {
            out.push(' ');
            out.push_str(s);
        }
        out
    }
}

/// Extends every policy of a `Content-Security-Policy` value (policies are `,`-separated,
/// directives `;`-separated) for the snippet.
pub fn extend(value: &str, needs: Needs<'_>) -> Extended {
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let policies: Vec<String> = value
        .split(',')
        .map(|p| extend_policy(p, needs, &mut changes, &mut warnings))
        .collect();
    Extended {
        value: policies.join(", "),
        changes,
        warnings,
    }
}

fn extend_policy(
    policy: &str,
    needs: Needs<'_>,
    changes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> String {
    let mut dirs: Vec<Directive> = policy.split(';').filter_map(Directive::parse).collect();
    // Only the first occurrence of a directive counts (CSP: later duplicates are ignored).
    let find = |dirs: &[Directive], name: &str| dirs.iter().position(|d| d.name == name);
    let default = find(&dirs, "default-src");
    let ensure = |dirs: &mut Vec<Directive>, name: &str| -> Option<usize> {
        if let Some(i) = find(dirs, name) {
            return Some(i);
        }
        let d = default?;
        let mut created = Directive::parse(name)?;
        created.sources = dirs[d].sources.clone();
        created.created = true;
        dirs.push(created);
        Some(dirs.len() - 1)
    };

    let script = ensure(&mut dirs, "script-src");
    let elem = find(&dirs, "script-src-elem");
    // The loader's <script> and import() follow script-src-elem, else script-src.
    for i in [script, elem].into_iter().flatten() {
        let d = &mut dirs[i];
        if d.has("'strict-dynamic'") {
            d.add(&format!("'nonce-{}'", needs.nonce));
        } else if !d.has("*") {
            d.add("'self'");
        }
    }
    // WebAssembly compilation follows script-src (never -elem).
    if let Some(i) = script {
        let d = &mut dirs[i];
        if !d.has("'unsafe-eval'") {
            d.add("'wasm-unsafe-eval'");
        }
    }
    if let Some(i) = ensure(&mut dirs, "connect-src") {
        let d = &mut dirs[i];
        if !d.has("*") {
            d.add("'self'");
            d.add(needs.ws_origin);
        }
    }

    for d in &dirs {
        if d.created {
            changes.push(format!(
                "{} added (default-src's sources + {})",
                d.name,
                d.added.join(" ")
            ));
        } else if !d.added.is_empty() {
            changes.push(format!("{} += {}", d.name, d.added.join(" ")));
        }
        match d.name.as_str() {
            "require-trusted-types-for" => warnings.push(format!(
                "`{}` is left as it is: the co-browse client may be refused where it writes HTML",
                d.text
            )),
            "sandbox" if !d.has("allow-scripts") => warnings.push(format!(
                "`{}` is left as it is: no script runs on this page, the snippet neither",
                d.text
            )),
            _ => {}
        }
    }
    dirs.iter()
        .map(Directive::render)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEEDS: Needs<'static> = Needs {
        ws_origin: "ws://proxy.test:8780",
        nonce: "n0nce",
    };

    #[test]
    fn the_readme_strict_policy_gets_self_wasm_and_the_socket() {
        let e = extend(
            "default-src 'none'; script-src https://cdn.example; style-src 'self'",
            NEEDS,
        );
        assert_eq!(
            e.value,
            "default-src 'none'; script-src https://cdn.example 'self' 'wasm-unsafe-eval'; \
             style-src 'self'; connect-src 'self' ws://proxy.test:8780"
        );
        assert_eq!(
            e.changes,
            [
                "script-src += 'self' 'wasm-unsafe-eval'",
                "connect-src added (default-src's sources + 'self' ws://proxy.test:8780)"
            ]
        );
    }

    #[test]
    fn default_src_is_copied_not_widened() {
        let e = extend("default-src https://a.example", NEEDS);
        assert_eq!(
            e.value,
            "default-src https://a.example; \
             script-src https://a.example 'self' 'wasm-unsafe-eval'; \
             connect-src https://a.example 'self' ws://proxy.test:8780"
        );
    }

    #[test]
    fn none_is_replaced_and_present_sources_are_not_repeated() {
        let e = extend(
            "script-src 'none'; connect-src 'SELF' ws://proxy.test:8780",
            NEEDS,
        );
        assert_eq!(
            e.value,
            "script-src 'self' 'wasm-unsafe-eval'; connect-src 'SELF' ws://proxy.test:8780"
        );
        assert_eq!(e.changes, ["script-src += 'self' 'wasm-unsafe-eval'"]);
    }

    #[test]
    fn unsafe_eval_already_allows_wasm_and_star_allows_the_origin() {
        let e = extend("script-src * 'unsafe-eval'; connect-src *", NEEDS);
        assert_eq!(e.value, "script-src * 'unsafe-eval'; connect-src *");
        assert!(e.changes.is_empty());
    }

    #[test]
    fn strict_dynamic_gets_our_nonce_not_self() {
        let e = extend(
            "script-src 'nonce-site' 'strict-dynamic'; object-src 'none'",
            NEEDS,
        );
        assert_eq!(
            e.value,
            "script-src 'nonce-site' 'strict-dynamic' 'nonce-n0nce' 'wasm-unsafe-eval'; object-src 'none'"
        );
    }

    #[test]
    fn no_nonce_is_added_where_unsafe_inline_would_stop_working() {
        let e = extend("script-src 'self' 'unsafe-inline'", NEEDS);
        assert_eq!(
            e.value,
            "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'"
        );
        assert!(!e.value.contains("nonce"));
    }

    #[test]
    fn script_src_elem_is_extended_too_but_without_wasm() {
        let e = extend(
            "script-src-elem https://cdn.example; script-src 'self'",
            NEEDS,
        );
        assert_eq!(
            e.value,
            "script-src-elem https://cdn.example 'self'; script-src 'self' 'wasm-unsafe-eval'"
        );
    }

    #[test]
    fn a_policy_without_fetch_directives_is_left_alone() {
        let e = extend("frame-ancestors 'none'; upgrade-insecure-requests", NEEDS);
        assert_eq!(e.value, "frame-ancestors 'none'; upgrade-insecure-requests");
        assert!(e.changes.is_empty());
    }

    #[test]
    fn every_policy_of_a_list_is_extended() {
        let e = extend("script-src 'self', default-src 'none'", NEEDS);
        assert_eq!(
            e.value,
            "script-src 'self' 'wasm-unsafe-eval', default-src 'none'; \
             script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws://proxy.test:8780"
        );
    }

    #[test]
    fn trusted_types_and_sandbox_are_kept_and_warned_about() {
        let e = extend(
            "require-trusted-types-for 'script'; sandbox allow-forms",
            NEEDS,
        );
        assert_eq!(
            e.value,
            "require-trusted-types-for 'script'; sandbox allow-forms"
        );
        assert_eq!(e.warnings.len(), 2);
    }
}
