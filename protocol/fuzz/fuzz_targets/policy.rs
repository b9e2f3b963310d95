//! The DOM restriction document as the server loads it (`dom-restrictions.json`) and the client
//! reads it: any bytes as JSON into `DomPolicy`, then `validate`. Nothing may panic; an accepted
//! document serialises to JSON that parses and validates to the same document, and every
//! selector it accepted can be joined into one style rule without escaping it.
#![no_main]

use cobrowse_protocol::policy::{DomPolicy, plausible_selector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<DomPolicy>(data) else {
        return;
    };
    let Ok(valid) = doc.validate() else {
        return;
    };
    let text = serde_json::to_string(&valid).expect("a document serialises");
    let back: DomPolicy = serde_json::from_str(&text).expect("its own JSON parses");
    assert_eq!(back.clone().validate().as_ref(), Ok(&valid));
    for rule in &valid.rules {
        assert!(plausible_selector(&rule.selector));
        assert!(!rule.selector.contains(['{', '}', ';']));
    }
});
