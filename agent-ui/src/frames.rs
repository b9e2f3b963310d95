//! Which customer iframes the replica loads by URL.
//!
//! The customer's client captures the documents of same-origin frames and the replica rebuilds
//! them. A frame whose document the customer cannot read (another origin) stays in the replica as
//! an empty box of the frame's own size: the replica never requests its URL, so a third party
//! learns nothing about the agent. The one exception is a frame whose origin the operator listed in
//! the server's `proxy.allowedThirdPartyDomains` (the agent learns the list from the session
//! answer): the replica then loads it by URL, still inside the replica's sandbox without
//! `allow-scripts`, so none of its scripts run.
//!
//! The list is a [`cobrowse_common::origin::OriginList`], the type the server checks its own
//! lists with, so both sides read `https://*.maps.example` the same way.

use crate::debug;
use crate::url::origin_of;
use cobrowse_common::origin::OriginList;

/// The origins the replica may load frames from by URL. Empty (the default) loads none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FramePolicy {
    /// Origin patterns (`https://*.maps.example`, `*`).
    origins: OriginList,
    /// The agent page's own origin: never loaded, whatever the list says, so customer data can
    /// never make the replica talk to the agent's server with the agent's cookies.
    agent_origin: Option<String>,
}

impl FramePolicy {
    /// A policy from the server's `allowedThirdPartyDomains` and the agent page's origin. An
    /// entry that is not an origin pattern allows nothing (the server validated the list, so one
    /// is only logged).
    pub fn new(patterns: &[String], agent_origin: Option<&str>) -> Self {
        let (origins, rejected) = OriginList::parse_valid(patterns);
        if !rejected.is_empty() {
            debug!("allowedThirdPartyDomains: ignoring {rejected:?}");
        }
        FramePolicy {
            origins,
            agent_origin: agent_origin.and_then(origin_of),
        }
    }

    /// True when no frame is ever loaded by URL.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// The URL the replica loads for a frame whose absolute `src` is `src`, inside a customer
    /// document at `doc_url`; `None` leaves the frame an empty box.
    ///
    /// Same-origin frames are never loaded: their documents are captured and rebuilt (loading
    /// them would show the page without the customer's state, and run a second request for it).
    pub fn frame_url(&self, src: &str, doc_url: &str) -> Option<String> {
        let origin = origin_of(src)?;
        if origin_of(doc_url).as_deref() == Some(origin.as_str())
            || self.agent_origin.as_deref() == Some(origin.as_str())
        {
            return None;
        }
        self.origins.allows(&origin).then(|| src.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(items: &[&str]) -> FramePolicy {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        FramePolicy::new(
            &items,
            Some("http://agent.example:8700/cobrowse/slave.html"),
        )
    }

    const PAGE: &str = "https://shop.example/checkout";

    #[test]
    fn listed_third_party_origins_load_and_others_stay_blank() {
        let p = policy(&["https://*.maps.example", "http://127.0.0.1:9001"]);
        let src = "https://eu.maps.example/embed?q=1";
        assert_eq!(p.frame_url(src, PAGE).as_deref(), Some(src));
        assert_eq!(
            p.frame_url("HTTP://127.0.0.1:9001/w", PAGE).as_deref(),
            Some("HTTP://127.0.0.1:9001/w")
        );
        assert_eq!(p.frame_url("http://127.0.0.1:9002/w", PAGE), None, "port");
        assert_eq!(p.frame_url("http://eu.maps.example/", PAGE), None, "scheme");
        assert_eq!(p.frame_url("https://maps.example/", PAGE), None);
        assert_eq!(p.frame_url("https://eu.maps.example.evil/", PAGE), None);
        assert_eq!(policy(&[]).frame_url(src, PAGE), None, "empty list");
    }

    #[test]
    fn star_allows_every_third_party_but_never_same_origin_or_the_agent() {
        let p = policy(&["*"]);
        assert!(p.frame_url("https://ads.example/x", PAGE).is_some());
        assert_eq!(p.frame_url("https://shop.example/frame.html", PAGE), None);
        assert_eq!(
            p.frame_url("http://agent.example:8700/cobrowse/", PAGE),
            None
        );
        assert_eq!(p.frame_url("javascript:alert(1)", PAGE), None);
        assert_eq!(p.frame_url("data:text/html,<b>x</b>", PAGE), None);
        assert_eq!(p.frame_url("about:blank", PAGE), None);
    }

    #[test]
    fn entries_that_are_not_origin_patterns_allow_nothing() {
        let p = policy(&[
            "maps.example",
            " ",
            "https://*.maps.example/path",
            "https://ok.example",
        ]);
        assert!(!p.is_empty());
        assert_eq!(p.frame_url("https://maps.example/", PAGE), None);
        assert_eq!(p.frame_url("https://a.maps.example/", PAGE), None);
        assert!(p.frame_url("https://ok.example/w", PAGE).is_some());
        assert!(policy(&["maps.example"]).is_empty());
    }
}
