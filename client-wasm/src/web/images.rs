//! Small images the agent cannot load, sent inline.
//!
//! A `blob:` URL exists only inside the customer's page, and an image behind the customer's login
//! needs the customer's cookies: the agent's replica would show an empty box. On the recorder's
//! sampling timer, every captured `<img>` whose `src` is such a URL ([`InlineImages`]) is fetched
//! by the customer's own browser, read as a `data:` URL, and — when it is an image type the
//! replica accepts and fits the cap — sent as an ordinary attribute change setting the replica's
//! `src` to it. Images under a mask rule and hidden ones are never read (hidden ones are not even
//! captured). A failed or too large image is remembered and not fetched again for the same URL.
//!
//! Kept by the recorder: [`ImageInliner`] remembers what it sent per node; a snapshot carries the
//! copies already read in place of the original `src`.

use crate::config::InlineImages;
use crate::web::dom::{element, html_tag};
use cobrowse_protocol::{
    AttrChange, Message, MutationBatch, NameTable, NodeData, NodeId, NodeRecord,
};
use js_sys::Promise;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Document, FileReader, HtmlImageElement, Node, Response, Window};

/// Images whose `src` attribute is a `blob:` URL (always absolute, so the attribute says it).
const BLOB_IMAGES: &str = "img[src^=\"blob:\" i]";

/// What became of one image URL.
#[derive(Debug, Clone)]
enum Fetched {
    /// Being fetched.
    Pending,
    /// Its `data:` URL, ready to send.
    Ready(Rc<str>),
    /// Not sendable (failed, too large, not an image type).
    Refused,
}

/// Per-page inlining state.
#[derive(Debug, Default)]
pub struct ImageInliner {
    config: InlineImages,
    /// By source URL; shared with the fetches in flight.
    fetched: Rc<RefCell<HashMap<String, Fetched>>>,
    /// The source URL whose `data:` URL was sent, per node.
    sent: HashMap<NodeId, String>,
}

impl ImageInliner {
    /// Uses `config` from now on.
    pub fn configure(&mut self, config: InlineImages) {
        self.config = config;
    }

    /// Puts the inline copies already read into a fresh snapshot and remembers them as sent.
    ///
    /// A snapshot that carried the original `src` would show the agent broken images until the
    /// next sample, and would make every copy go out again as changes after it: a log that
    /// outgrows the snapshot, which asks for another snapshot, and so on for as long as the page
    /// shows them. `node_of` maps a wire id to its page node.
    pub fn fill_snapshot(
        &mut self,
        nodes: &mut [NodeRecord],
        first_id: NodeId,
        names: &NameTable,
        node_of: &dyn Fn(NodeId) -> Option<Node>,
        masked: &dyn Fn(&Node) -> bool,
    ) {
        self.sent.clear();
        if self.config.max_bytes == 0 {
            return;
        }
        let fetched = self.fetched.borrow();
        for (i, rec) in nodes.iter_mut().enumerate() {
            let NodeData::Element { tag, attrs, .. } = &mut rec.data else {
                continue;
            };
            if names.resolve(*tag) != Some("img") {
                continue;
            }
            let id = first_id + i as NodeId;
            let Some(node) = node_of(id) else { continue };
            let Some(src) = self.candidate(&node) else {
                continue;
            };
            let Some(Fetched::Ready(data)) = fetched.get(&src) else {
                continue;
            };
            if masked(&node) {
                continue;
            }
            if let Some(a) = attrs
                .iter_mut()
                .find(|a| names.resolve(a.name) == Some("src"))
            {
                a.value = data.to_string();
                self.sent.insert(id, src);
            }
        }
    }

    /// Attribute changes for images whose inline copy is ready and not yet sent; starts fetches
    /// for new ones. `id_of` maps a page node to its wire id (`None`: not captured); `masked`
    /// says whether a mask rule covers it.
    pub fn sample(
        &mut self,
        window: &Window,
        document: &Document,
        id_of: &dyn Fn(&Node) -> Option<NodeId>,
        masked: &dyn Fn(&Node) -> bool,
    ) -> Option<Message> {
        if self.config.max_bytes == 0 {
            return None;
        }
        // The browser filters: only `blob:` images (and the site's selection) are visited, so a
        // page with thousands of ordinary images costs one native query per tick.
        let list = match self.config.selector.as_deref() {
            Some(s) => document
                .query_selector_all(&format!("{BLOB_IMAGES}, img:is({s})"))
                .or_else(|_| document.query_selector_all(BLOB_IMAGES)),
            None => document.query_selector_all(BLOB_IMAGES),
        }
        .ok()?;
        let mut names = NameTable::new();
        let src_name = names.intern("src");
        let mut attrs = Vec::new();
        let mut seen = Vec::new();
        for i in 0..list.length() {
            let Some(node) = list.item(i) else { continue };
            let Some(id) = id_of(&node) else { continue };
            seen.push(id);
            let Some(src) = self.candidate(&node) else {
                continue;
            };
            if self.sent.get(&id) == Some(&src) || masked(&node) {
                continue;
            }
            let state = self.fetched.borrow().get(&src).cloned();
            match state {
                None => self.start_fetch(window, &src),
                Some(Fetched::Ready(data)) => {
                    self.sent.insert(id, src);
                    attrs.push(AttrChange {
                        node: id,
                        name: src_name,
                        value: Some(data.to_string()),
                    });
                }
                Some(Fetched::Pending | Fetched::Refused) => {}
            }
        }
        self.sent.retain(|id, _| seen.contains(id));
        (!attrs.is_empty()).then(|| {
            Message::Mutations(MutationBatch {
                names,
                attrs,
                ..Default::default()
            })
        })
    }

    /// The URL to inline for `node`, when it is an `<img>` the agent could not load itself.
    fn candidate(&self, node: &Node) -> Option<String> {
        let img = html_tag::<HtmlImageElement>(node, "img")?;
        let src = img.src();
        let selected = || {
            self.config.selector.as_deref().is_some_and(|s| {
                element(node)
                    .and_then(|e| e.matches(s).ok())
                    .unwrap_or(false)
            })
        };
        self.config.wants(&src, selected).then_some(src)
    }

    fn start_fetch(&self, window: &Window, src: &str) {
        self.fetched
            .borrow_mut()
            .insert(src.to_owned(), Fetched::Pending);
        let fetched = Rc::clone(&self.fetched);
        let config = self.config.clone();
        let window = window.clone();
        let src = src.to_owned();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match read_data_url(&window, &src, config.max_bytes).await {
                Some(d) if config.accepts(&d) => Fetched::Ready(d.into()),
                _ => Fetched::Refused,
            };
            fetched.borrow_mut().insert(src, result);
        });
    }
}

/// Fetches `src` with the page's credentials and reads it as a `data:` URL; `None` when that
/// fails or the body alone already exceeds `max_bytes` (checked before encoding).
async fn read_data_url(window: &Window, src: &str, max_bytes: u32) -> Option<String> {
    let resp: Response = JsFuture::from(window.fetch_with_str(src))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if !resp.ok() {
        return None;
    }
    let blob: Blob = JsFuture::from(resp.blob().ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    // base64 is 4/3 of the bytes: anything above 3/4 of the cap cannot fit once encoded.
    if blob.size() > f64::from(max_bytes) * 0.75 || !blob.type_().starts_with("image/") {
        return None;
    }
    let reader = FileReader::new().ok()?;
    let done = Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(&resolve));
        reader.set_onerror(Some(&reject));
    });
    reader.read_as_data_url(&blob).ok()?;
    JsFuture::from(done).await.ok()?;
    let out = reader.result().ok()?.as_string();
    reader.set_onload(None);
    reader.set_onerror(None);
    out
}
