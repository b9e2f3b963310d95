//! Value forms several sections share: durations ([`Dur`]), lists ([`List`]) and base URLs.

use super::error::{ConfigError, invalid};
use humantime_serde::re::humantime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A duration given as a number of seconds (`600`, `0.5`, `"10"`) or a string with humantime's
/// units (`"250ms"`, `"10s"`, `"5m"`, `"1h"`, `"2d"`, `"1h 30m"`). Short durations exist for
/// tests. Written back (defaults, serialisation) in humantime's form (`"10m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

/// The longest duration accepted, in seconds (about 31 years): beyond it a value is a typo.
const MAX_SECS: f64 = 1e9;

/// Parses a bare number of seconds (`"10"`, `"0.5"`), a humantime duration (`"250ms"`, `"10s"`,
/// `"5m"`, `"1h"`, `"2d"`, `"1h 30m"`), or a decimal with one unit (`"1.5s"`, `"0.5h"`, which
/// humantime alone does not take).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let not_a_duration = |why: &str| {
        format!("`{s}` is not a duration{why} (examples: 600, \"250ms\", \"10s\", \"5m\")")
    };
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let unit = unit.trim();
    let duration = if unit.is_empty() || num.contains('.') {
        let n: f64 = num.parse().map_err(|_| not_a_duration(""))?;
        let per_unit = if unit.is_empty() {
            Duration::from_secs(1)
        } else if unit.bytes().all(|b| b.is_ascii_alphabetic()) {
            humantime::parse_duration(&format!("1{unit}"))
                .map_err(|e| not_a_duration(&format!(": {e}")))?
        } else {
            return Err(not_a_duration(""));
        };
        let secs = n * per_unit.as_secs_f64();
        if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
            return Err(format!("duration `{s}` is out of range"));
        }
        Duration::from_secs_f64(secs)
    } else {
        humantime::parse_duration(s).map_err(|e| not_a_duration(&format!(": {e}")))?
    };
    if duration.as_secs_f64() > MAX_SECS {
        return Err(format!("duration `{s}` is out of range"));
    }
    Ok(duration)
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Str(String),
        }
        let secs = match Raw::deserialize(d)? {
            Raw::Int(i) if i >= 0 => Duration::from_secs(i.unsigned_abs()),
            Raw::Float(f) if (0.0..=MAX_SECS).contains(&f) => Duration::from_secs_f64(f),
            Raw::Str(s) => parse_duration(&s).map_err(serde::de::Error::custom)?,
            _ => {
                return Err(serde::de::Error::custom(
                    "a duration must not be negative (or longer than 1e9 s)",
                ));
            }
        };
        Ok(Dur(secs))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        humantime_serde::serialize(&self.0, s)
    }
}

/// A list given as a TOML array or as one comma-separated string (as the reference product and
/// environment variables do). Blank items are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct List(pub Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let items = match Raw::deserialize(d)? {
            Raw::One(s) => s.split(',').map(str::to_string).collect::<Vec<_>>(),
            Raw::Many(v) => v,
        };
        Ok(List(
            items
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }
}

/// Checks an optional base URL option: empty, or absolute `http(s)://…` without a trailing slash
/// (paths are appended to it).
pub(crate) fn check_url(option: &str, url: &str) -> Result<(), ConfigError> {
    if url.is_empty() {
        return Ok(());
    }
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.contains(char::is_whitespace);
    if !ok {
        return Err(invalid(
            option,
            format!("`{url}` is not an absolute http(s) URL"),
        ));
    }
    if url.ends_with('/') {
        return Err(invalid(option, "must not end with a slash"));
    }
    Ok(())
}
