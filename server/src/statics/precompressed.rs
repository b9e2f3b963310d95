//! Precompressed variants and validators of static files: which encoding a request accepts
//! (`Accept-Encoding`), which variant on disk may stand in for a file (`f.br`, `f.gz`, written
//! at build time by `scripts/precompress.mjs`), and the file's `ETag`.
//!
//! A variant is used unless it is clearly older than the file it compresses ([`STALE_AFTER`]),
//! so a variant a partial build left behind is not sent for a newer file, while copies of the
//! static root (`cp -r`, which stamps each file as it copies, in any order) keep theirs.
//! Brotli wins over gzip at equal
//! `q`; a coding with `q=0` is refused; `*` stands for the codings not named.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// A content coding the server has precompressed files for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `br`, files `*.br`.
    Brotli,
    /// `gzip`, files `*.gz`.
    Gzip,
}

impl Coding {
    /// In order of preference at equal quality: brotli is smaller.
    pub const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The file-name suffix of its variants.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gz",
        }
    }
}

/// The quality `accept` (an `Accept-Encoding` value) gives `coding`: its own entry, else `*`'s,
/// else 0. `x-gzip` counts as `gzip` (RFC 9110 §8.4.1.3).
fn quality(accept: &str, coding: Coding) -> f32 {
    let mut star = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        let named = name == coding.token() || (coding == Coding::Gzip && name == "x-gzip");
        if named {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The codings `accept` allows, best first (quality, then [`Coding::ALL`]'s order).
pub fn accepted(accept: Option<&str>) -> Vec<Coding> {
    let Some(accept) = accept else {
        return Vec::new();
    };
    let mut out: Vec<(Coding, f32)> = Coding::ALL
        .into_iter()
        .map(|c| (c, quality(accept, c)))
        .filter(|(_, q)| *q > 0.0)
        .collect();
    // Stable: equal qualities keep the preference order.
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.into_iter().map(|(c, _)| c).collect()
}

/// How much older than its file a variant may be and still be sent: more than a copy of the
/// static root takes between two files, less than a rebuild of the file takes.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// The variant file of `file` for `coding`, if it exists and is not stale ([`STALE_AFTER`]).
pub async fn variant(file: &Path, coding: Coding) -> Option<PathBuf> {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(coding.suffix());
    let path = PathBuf::from(name);
    let (orig, var) = (
        tokio::fs::metadata(file).await.ok()?,
        tokio::fs::metadata(&path).await.ok()?,
    );
    let fresh = var.modified().ok()? + STALE_AFTER >= orig.modified().ok()?;
    (var.is_file() && fresh).then_some(path)
}

/// True when some precompressed variant of `file` is on disk (the answer then varies by
/// `Accept-Encoding`, whichever representation this request gets).
pub async fn has_variants(file: &Path) -> bool {
    for c in Coding::ALL {
        if variant(file, c).await.is_some() {
            return true;
        }
    }
    false
}

/// A strong validator for `file` as sent with `coding` (`None`: identity): its modification
/// time and length, and the coding, since each representation is a different byte sequence.
pub fn etag(meta: &std::fs::Metadata, coding: Option<Coding>) -> String {
    let t = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let suffix = coding
        .map(|c| format!("-{}", c.suffix()))
        .unwrap_or_default();
    format!(
        "\"{:x}.{:x}-{:x}{suffix}\"",
        t.as_secs(),
        t.subsec_nanos(),
        meta.len()
    )
}

/// True when an `If-None-Match` value names `etag` (or is `*`): weak comparison, as RFC 9110
/// asks for this header.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_brotli_honours_q_and_star() {
        use Coding::*;
        assert_eq!(
            accepted(Some("gzip, deflate, br, zstd")),
            vec![Brotli, Gzip]
        );
        assert_eq!(accepted(Some("gzip")), vec![Gzip]);
        assert_eq!(accepted(Some("br;q=0, gzip")), vec![Gzip]);
        assert_eq!(accepted(Some("br;q=0.5, gzip;q=0.8")), vec![Gzip, Brotli]);
        assert_eq!(accepted(Some("*")), vec![Brotli, Gzip]);
        assert_eq!(accepted(Some("*;q=0, gzip")), vec![Gzip]);
        assert_eq!(accepted(Some("x-gzip")), vec![Gzip]);
        assert_eq!(accepted(Some("identity")), Vec::<Coding>::new());
        assert_eq!(accepted(Some("")), Vec::<Coding>::new());
        assert_eq!(accepted(None), Vec::<Coding>::new());
        assert_eq!(accepted(Some("BR")), vec![Brotli]);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match("\"a\"", "\"a\""));
        assert!(none_match("W/\"a\", \"b\"", "\"a\""));
        assert!(none_match("*", "\"a\""));
        assert!(!none_match("\"a-br\"", "\"a\""));
    }
}
