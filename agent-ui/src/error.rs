//! Errors at the crate's boundary (what `start_agent()` can fail with). Everything after start-up
//! is handled in place: bad replay data is skipped and logged, network trouble becomes a status.

/// Why the agent page could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// `slave.html` (or a host page) lacks an element the app needs.
    #[error("the agent page lacks the element #{0}")]
    MissingElement(&'static str),
    /// Not running in a browser page.
    #[error("no window or document: the agent must run in a browser page")]
    NoDocument,
    /// A DOM call failed while building the page's own UI.
    #[error("DOM call failed: {0}")]
    Dom(String),
}

#[cfg(target_arch = "wasm32")]
impl From<AgentError> for wasm_bindgen::JsValue {
    fn from(e: AgentError) -> Self {
        js_sys::Error::new(&e.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        assert_eq!(
            AgentError::MissingElement("cobrowse-status").to_string(),
            "the agent page lacks the element #cobrowse-status"
        );
        assert!(AgentError::NoDocument.to_string().contains("browser"));
    }
}
