//! Frame encoding and decoding, limits, and length-delimited streams.
//!
//! [`decode_with`] never panics and never recurses on input: every structure is either flat or of
//! fixed depth, and trees are checked by the iterative [`crate::dom::validate_tree`]. Errors say
//! whether a frame is *invalid* (close the connection: the peer is broken or hostile) or *too large*
//! (close it with a size reason: the page is bigger than this server accepts).
//!
//! Bodies decode through the `budget` module, which counts nodes and decoded bytes before they are
//! allocated, so a frame that would expand past [`Limits::max_decoded_bytes`] or hold more than
//! [`Limits::max_nodes`] nodes stops there instead of after it was built.

use crate::PROTOCOL_VERSION;
use crate::budget::{Budget, Budgeted};
use crate::dom::{Insert, MutationBatch, NodeData, NodeId, TreeError, validate_tree};
use crate::message::{ControllerEvent, FontSource, Message, Paint, SheetOp, SheetState, tags};
use crate::message::{Hello, LinkHello, LinkWelcome, Role, Sequenced, Snapshot, Welcome};
use crate::names::NameTable;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decode limits. The defaults suit a large real page; servers may lower them by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Most nodes in one snapshot or mutation batch (all subtrees together).
    pub max_nodes: usize,
    /// Deepest tree accepted.
    pub max_depth: usize,
    /// Longest single string (text node, attribute value, CSS rule), in bytes.
    pub max_string_bytes: usize,
    /// Most memory one frame may decode into: every decoded element's in-memory size plus its
    /// strings, counted before they are allocated. Bounds how far a small encoding (an empty
    /// text node is three bytes on the wire) can expand in memory.
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 16 * 1024 * 1024,
            max_nodes: 1_000_000,
            max_depth: 2_048,
            max_string_bytes: 8 * 1024 * 1024,
            max_decoded_bytes: 128 * 1024 * 1024,
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame has no bytes at all.
    #[error("empty frame")]
    Empty,
    /// The version byte is not one this build speaks.
    #[error("unsupported protocol version {0} (this build speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion(u8),
    /// The bytes do not form a valid message.
    #[error("invalid frame: {0}")]
    Invalid(String),
    /// A limit was exceeded.
    #[error("frame too large: {what} is {actual}, limit {limit}")]
    TooLarge {
        /// What exceeded its limit (`frame`, `nodes`, `depth`, `string`).
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The size seen (for depth: the limit + 1, since the walk stops there).
        actual: usize,
    },
}

impl DecodeError {
    /// True for [`DecodeError::TooLarge`]: the peer is not broken, the content is too big.
    pub fn is_too_large(&self) -> bool {
        matches!(self, DecodeError::TooLarge { .. })
    }
}

fn encode_body<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing into a Vec cannot fail for our types (no maps with non-string keys, no
    // unsupported serde features); an error here is a programming error in this crate.
    let bytes = postcard::to_extend(value, std::mem::take(out))
        .expect("postcard serialization of protocol types is infallible");
    *out = bytes;
}

/// Encodes one message as a complete frame (version, tag, body).
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.push(PROTOCOL_VERSION);
    encode_body(&mut out, &msg.tag());
    match msg {
        Message::Hello(m) => encode_body(&mut out, m),
        Message::Welcome(m) => encode_body(&mut out, m),
        Message::Session(m) => encode_body(&mut out, m),
        Message::Snapshot(m) => encode_body(&mut out, m.as_ref()),
        Message::Mutations(m) => encode_body(&mut out, m),
        Message::Form(m) => encode_body(&mut out, m),
        Message::Scroll(m) => encode_body(&mut out, m),
        Message::Viewport(m) => encode_body(&mut out, m),
        Message::Pointer(m) => encode_body(&mut out, m),
        Message::Click(m) => encode_body(&mut out, m),
        Message::Pseudo(m) => encode_body(&mut out, m),
        Message::Sheet(m) => encode_body(&mut out, m),
        Message::Navigation(m) => encode_body(&mut out, m),
        Message::Mode(m) => encode_body(&mut out, m),
        Message::Action(m) => encode_body(&mut out, m),
        Message::Refused(m) => encode_body(&mut out, m),
        Message::Ping(m) | Message::Pong(m) => encode_body(&mut out, m),
        Message::Error(m) => encode_body(&mut out, m),
        Message::RequestSnapshot | Message::Leave => {}
        Message::Media(m) => encode_body(&mut out, m),
        Message::Canvas(m) => encode_body(&mut out, m),
        Message::Selection(m) => encode_body(&mut out, m),
        Message::Controller(m) => encode_body(&mut out, m),
        Message::Paint(m) => encode_body(&mut out, m),
        Message::Seq(m) => {
            encode_body(&mut out, &m.seq);
            out.extend_from_slice(&m.frame);
        }
        Message::Ack(m) => encode_body(&mut out, m),
        Message::Render(m) => encode_body(&mut out, m),
        Message::Ink(m) => encode_body(&mut out, m),
        Message::Roster(m) => encode_body(&mut out, m),
        Message::Control(m) => encode_body(&mut out, m),
        Message::Batch(frames) => batch_body(&mut out, frames),
        Message::Unknown { body, .. } => out.extend_from_slice(body),
    }
    out
}

/// A batch's body: each frame as a varint length and its bytes, to the end of the frame.
fn batch_body<F: AsRef<[u8]>>(out: &mut Vec<u8>, frames: &[F]) {
    for f in frames {
        let f = f.as_ref();
        encode_body(out, &(f.len() as u64));
        out.extend_from_slice(f);
    }
}

/// Most frames in one [`Message::Batch`]; a batch with more is refused. A sender batches what
/// one task of its page produced, which is a handful.
pub const MAX_BATCH_FRAMES: usize = 256;

/// The frame of `Batch(frames)` built from the frames' bytes, without copying them into a
/// [`Message`] first (the client batches frames it already encoded).
pub fn encode_batch<F: AsRef<[u8]>>(frames: &[F]) -> Vec<u8> {
    let total: usize = frames.iter().map(|f| f.as_ref().len() + 4).sum();
    let mut out = Vec::with_capacity(total + 4);
    out.push(PROTOCOL_VERSION);
    encode_body(&mut out, &tags::BATCH);
    batch_body(&mut out, frames);
    out
}

/// For a `Batch` frame, its frames as slices of `frame` (no copy), in order; `None` for any
/// other frame. Checks the layout only (lengths, count): each frame is a frame of its own, which
/// the receiver decodes, and refuses, on its own.
pub fn split_batch(frame: &[u8]) -> Result<Option<Vec<&[u8]>>, DecodeError> {
    let (tag, mut rest) = peek_tag(frame)?;
    if tag != tags::BATCH {
        return Ok(None);
    }
    let mut frames = Vec::new();
    while !rest.is_empty() {
        if frames.len() == MAX_BATCH_FRAMES {
            return Err(DecodeError::TooLarge {
                what: "batch",
                limit: MAX_BATCH_FRAMES,
                actual: MAX_BATCH_FRAMES + 1,
            });
        }
        let (len, after) = postcard::take_from_bytes::<u64>(rest)
            .map_err(|e| DecodeError::Invalid(format!("batch frame length: {e}")))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > after.len() {
            return Err(DecodeError::Invalid(format!(
                "batch frame of {len} bytes, {} left",
                after.len()
            )));
        }
        let (f, next) = after.split_at(len);
        frames.push(f);
        rest = next;
    }
    Ok(Some(frames))
}

/// The frame of `Seq(Sequenced { seq, frame })` built from the inner frame's bytes, without
/// copying them into a [`Message`] first (the relay wraps what it forwards).
pub fn encode_seq(seq: u64, frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 12);
    out.push(PROTOCOL_VERSION);
    encode_body(&mut out, &tags::SEQ);
    encode_body(&mut out, &seq);
    out.extend_from_slice(frame);
    out
}

/// For a `Seq` frame, its number and the inner frame as a slice of `frame` (no copy); `None`
/// for any other frame. The relay reads sequenced frames this way and decodes only the inner
/// one.
pub fn split_seq(frame: &[u8]) -> Result<Option<(u64, &[u8])>, DecodeError> {
    let (tag, body) = peek_tag(frame)?;
    if tag != tags::SEQ {
        return Ok(None);
    }
    let (seq, inner) = postcard::take_from_bytes::<u64>(body)
        .map_err(|e| DecodeError::Invalid(format!("sequence number: {e}")))?;
    Ok(Some((seq, inner)))
}

/// The `Hello` payload before [`Hello::link`] was appended.
#[derive(serde::Deserialize)]
struct HelloV1 {
    role: Role,
    token: String,
    auth: Option<String>,
    agent_id: Option<String>,
    resume_from: Option<u64>,
    client: String,
}

/// The `Hello` payload before [`Hello::observe`] was appended.
#[derive(serde::Deserialize)]
struct HelloV2 {
    role: Role,
    token: String,
    auth: Option<String>,
    agent_id: Option<String>,
    resume_from: Option<u64>,
    client: String,
    link: Option<LinkHello>,
}

/// The `Welcome` payload before [`Welcome::batch`] was appended.
#[derive(serde::Deserialize)]
struct WelcomeV2 {
    role: Role,
    token: String,
    history_id: String,
    state: crate::message::SessionState,
    mode: crate::message::Mode,
    write_mode_allowed: bool,
    agents: u32,
    server_time_ms: u64,
    node: String,
    link: Option<LinkWelcome>,
}

/// The `Welcome` payload before [`Welcome::link`] was appended.
#[derive(serde::Deserialize)]
struct WelcomeV1 {
    role: Role,
    token: String,
    history_id: String,
    state: crate::message::SessionState,
    mode: crate::message::Mode,
    write_mode_allowed: bool,
    agents: u32,
    server_time_ms: u64,
    node: String,
}

/// The `ControllerEvent` payload before [`ControllerEvent::activated_at_ms`] and
/// [`ControllerEvent::agent_id`] were appended.
#[derive(serde::Deserialize)]
struct ControllerEventV1 {
    kind: crate::message::ControllerEventKind,
    token: String,
    history_id: String,
    started_at_ms: u64,
}

/// A payload that grew by appending fields: the current type, or, when the frame ends where
/// the older payload did, the older type (postcard does not default missing trailing fields).
fn grown<T: DeserializeOwned, Old: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    budget: &Budget,
    upgrade: impl FnOnce(Old) -> T,
) -> Result<T, DecodeError> {
    match body::<T>(bytes, what, budget) {
        Ok(v) => Ok(v),
        Err(e) => body::<Old>(bytes, what, budget).map(upgrade).map_err(|_| e),
    }
}

fn hello(b: &[u8], budget: &Budget) -> Result<Hello, DecodeError> {
    let v2 = |h: HelloV2| Hello {
        role: h.role,
        token: h.token,
        auth: h.auth,
        agent_id: h.agent_id,
        resume_from: h.resume_from,
        client: h.client,
        link: h.link,
        observe: false,
    };
    grown(b, "hello", budget, v2).or_else(|e| {
        grown(b, "hello", budget, |h: HelloV1| {
            v2(HelloV2 {
                role: h.role,
                token: h.token,
                auth: h.auth,
                agent_id: h.agent_id,
                resume_from: h.resume_from,
                client: h.client,
                link: None,
            })
        })
        .map_err(|_| e)
    })
}

fn welcome(b: &[u8], budget: &Budget) -> Result<Welcome, DecodeError> {
    let v2 = |w: WelcomeV2| Welcome {
        role: w.role,
        token: w.token,
        history_id: w.history_id,
        state: w.state,
        mode: w.mode,
        write_mode_allowed: w.write_mode_allowed,
        agents: w.agents,
        server_time_ms: w.server_time_ms,
        node: w.node,
        link: w.link,
        batch: false,
    };
    grown(b, "welcome", budget, v2).or_else(|e| {
        grown(b, "welcome", budget, |w: WelcomeV1| {
            v2(WelcomeV2 {
                role: w.role,
                token: w.token,
                history_id: w.history_id,
                state: w.state,
                mode: w.mode,
                write_mode_allowed: w.write_mode_allowed,
                agents: w.agents,
                server_time_ms: w.server_time_ms,
                node: w.node,
                link: None::<LinkWelcome>,
            })
        })
        .map_err(|_| e)
    })
}

fn controller(b: &[u8], budget: &Budget) -> Result<ControllerEvent, DecodeError> {
    grown(b, "controller", budget, |c: ControllerEventV1| {
        ControllerEvent {
            kind: c.kind,
            token: c.token,
            history_id: c.history_id,
            started_at_ms: c.started_at_ms,
            activated_at_ms: None,
            agent_id: None,
        }
    })
}

/// Decodes a frame with the default [`Limits`].
pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
    decode_with(frame, &Limits::default())
}

/// Reads a frame's version and tag without decoding the body: the relay uses it to route frames
/// it forwards untouched. Returns the tag and the body slice.
pub fn peek_tag(frame: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    let (&version, rest) = frame.split_first().ok_or(DecodeError::Empty)?;
    if version != PROTOCOL_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    postcard::take_from_bytes::<u32>(rest).map_err(|e| DecodeError::Invalid(format!("tag: {e}")))
}

fn body<T: DeserializeOwned>(bytes: &[u8], what: &str, budget: &Budget) -> Result<T, DecodeError> {
    // Trailing bytes are allowed on purpose: newer peers may append fields (so no `finalize`).
    let mut de = postcard::Deserializer::from_bytes(bytes);
    T::deserialize(Budgeted::new(&mut de, budget)).map_err(|e: postcard::Error| {
        budget
            .exceeded()
            .unwrap_or_else(|| DecodeError::Invalid(format!("{what}: {e}")))
    })
}

/// Decodes and validates one frame.
pub fn decode_with(frame: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    decode_only::<{ tags::ALL }>(frame, limits)
}

/// [`decode_with`] for a party that is sent only the tags in `A`: any other tag decodes as
/// [`Message::Unknown`], as a tag from a newer peer does. The set is a constant, so the decoders
/// of the other messages are not compiled into that party's build (the customer's wasm).
pub fn decode_only<const A: tags::TagSet>(
    frame: &[u8],
    limits: &Limits,
) -> Result<Message, DecodeError> {
    if frame.len() > limits.max_frame_bytes {
        return Err(DecodeError::TooLarge {
            what: "frame",
            limit: limits.max_frame_bytes,
            actual: frame.len(),
        });
    }
    let (tag, b) = peek_tag(frame)?;
    let budget = Budget::new(limits.max_decoded_bytes, limits.max_nodes);
    // A tag this party is sent: a constant, so the arms of the others compile away.
    macro_rules! sent {
        ($t:ident) => {
            const { tags::contains(A, tags::$t) }
        };
    }
    let msg = match tag {
        tags::HELLO if sent!(HELLO) => Message::Hello(hello(b, &budget)?),
        tags::WELCOME if sent!(WELCOME) => Message::Welcome(welcome(b, &budget)?),
        tags::SESSION if sent!(SESSION) => Message::Session(body(b, "session event", &budget)?),
        tags::SNAPSHOT if sent!(SNAPSHOT) => {
            Message::Snapshot(Box::new(body(b, "snapshot", &budget)?))
        }
        tags::MUTATIONS if sent!(MUTATIONS) => Message::Mutations(body(b, "mutations", &budget)?),
        tags::FORM if sent!(FORM) => Message::Form(body(b, "form", &budget)?),
        tags::SCROLL if sent!(SCROLL) => Message::Scroll(body(b, "scroll", &budget)?),
        tags::VIEWPORT if sent!(VIEWPORT) => Message::Viewport(body(b, "viewport", &budget)?),
        tags::POINTER if sent!(POINTER) => Message::Pointer(body(b, "pointer", &budget)?),
        tags::CLICK if sent!(CLICK) => Message::Click(body(b, "click", &budget)?),
        tags::PSEUDO if sent!(PSEUDO) => Message::Pseudo(body(b, "pseudo", &budget)?),
        tags::SHEET if sent!(SHEET) => Message::Sheet(body(b, "sheet", &budget)?),
        tags::NAVIGATION if sent!(NAVIGATION) => {
            Message::Navigation(body(b, "navigation", &budget)?)
        }
        tags::MODE if sent!(MODE) => Message::Mode(body(b, "mode", &budget)?),
        tags::ACTION if sent!(ACTION) => Message::Action(body(b, "action", &budget)?),
        tags::REFUSED if sent!(REFUSED) => Message::Refused(body(b, "refused", &budget)?),
        tags::PING if sent!(PING) => Message::Ping(body(b, "ping", &budget)?),
        tags::PONG if sent!(PONG) => Message::Pong(body(b, "pong", &budget)?),
        tags::ERROR if sent!(ERROR) => Message::Error(body(b, "error", &budget)?),
        tags::REQUEST_SNAPSHOT if sent!(REQUEST_SNAPSHOT) => Message::RequestSnapshot,
        tags::LEAVE if sent!(LEAVE) => Message::Leave,
        tags::MEDIA if sent!(MEDIA) => Message::Media(body(b, "media", &budget)?),
        tags::CANVAS if sent!(CANVAS) => Message::Canvas(body(b, "canvas", &budget)?),
        tags::SELECTION if sent!(SELECTION) => Message::Selection(body(b, "selection", &budget)?),
        tags::CONTROLLER if sent!(CONTROLLER) => Message::Controller(controller(b, &budget)?),
        tags::PAINT if sent!(PAINT) => Message::Paint(body(b, "paint", &budget)?),
        tags::SEQ if sent!(SEQ) => {
            let (seq, inner) = split_seq(frame)?.unwrap_or((0, &[]));
            Message::Seq(Sequenced {
                seq,
                frame: inner.to_vec(),
            })
        }
        tags::ACK if sent!(ACK) => Message::Ack(body(b, "ack", &budget)?),
        tags::RENDER if sent!(RENDER) => Message::Render(body(b, "render report", &budget)?),
        tags::INK if sent!(INK) => Message::Ink(body(b, "ink", &budget)?),
        tags::ROSTER if sent!(ROSTER) => Message::Roster(body(b, "roster", &budget)?),
        tags::CONTROL if sent!(CONTROL) => Message::Control(body(b, "control", &budget)?),
        tags::BATCH if sent!(BATCH) => Message::Batch(
            split_batch(frame)?
                .unwrap_or_default()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
        ),
        tag => Message::Unknown {
            tag,
            body: b.to_vec(),
        },
    };
    validate(&msg, limits)?;
    Ok(msg)
}

fn check_str(s: &str, limits: &Limits) -> Result<(), DecodeError> {
    if s.len() > limits.max_string_bytes {
        return Err(DecodeError::TooLarge {
            what: "string",
            limit: limits.max_string_bytes,
            actual: s.len(),
        });
    }
    Ok(())
}

fn tree_error(e: TreeError, limits: &Limits) -> DecodeError {
    match e {
        TreeError::TooDeep(_) => DecodeError::TooLarge {
            what: "depth",
            limit: limits.max_depth,
            actual: limits.max_depth + 1,
        },
        other => DecodeError::Invalid(other.to_string()),
    }
}

struct NodeBudget<'a> {
    limits: &'a Limits,
    used: usize,
}

impl NodeBudget<'_> {
    fn tree(
        &mut self,
        nodes: &[crate::dom::NodeRecord],
        first_id: u32,
        names: &NameTable,
    ) -> Result<(), DecodeError> {
        self.used += nodes.len();
        if self.used > self.limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "nodes",
                limit: self.limits.max_nodes,
                actual: self.used,
            });
        }
        validate_tree(nodes, first_id, names, self.limits.max_depth)
            .map_err(|e| tree_error(e, self.limits))?;
        for rec in nodes {
            match &rec.data {
                NodeData::Element { attrs, .. } => {
                    for a in attrs {
                        check_str(&a.value, self.limits)?;
                    }
                }
                NodeData::Text(s) | NodeData::Comment(s) => check_str(s, self.limits)?,
                NodeData::Document { url } => check_str(url, self.limits)?,
                NodeData::Doctype { .. } | NodeData::ShadowRoot { .. } => {}
            }
        }
        Ok(())
    }
}

fn check_sheet(sheet: &SheetState, limits: &Limits) -> Result<(), DecodeError> {
    sheet.rules.iter().try_for_each(|r| check_str(r, limits))
}

fn validate(msg: &Message, limits: &Limits) -> Result<(), DecodeError> {
    let mut budget = NodeBudget { limits, used: 0 };
    match msg {
        Message::Snapshot(s) => validate_snapshot(s, &mut budget),
        Message::Mutations(m) => validate_mutations(m, &mut budget),
        Message::Sheet(SheetOp::Set(s)) => check_sheet(s, limits),
        Message::Sheet(SheetOp::Insert { rule, .. }) => check_str(rule, limits),
        Message::Paint(p) => check_paint(p, limits),
        // Every receiver (relay, customer, other agents) gets only ink within bounds.
        Message::Ink(ink) => ink
            .check()
            .map_err(|e| DecodeError::Invalid(format!("ink: {e}"))),
        Message::Roster(r) => r
            .agents
            .iter()
            .filter_map(|a| a.agent_id.as_deref())
            .try_for_each(|id| check_str(id, limits)),
        _ => Ok(()),
    }
}

/// The strings of a [`Paint`] frame (font data is bounded by the frame limit alone).
fn check_paint(p: &Paint, limits: &Limits) -> Result<(), DecodeError> {
    let pair = |(k, v): &(String, String)| check_str(k, limits).and_then(|()| check_str(v, limits));
    match p {
        Paint::Undefined(names) => names.iter().try_for_each(|n| check_str(n, limits)),
        Paint::Fonts(faces) => faces.iter().try_for_each(|f| {
            check_str(&f.family, limits)?;
            check_str(&f.base_url, limits)?;
            if let FontSource::Css(src) = &f.source {
                check_str(src, limits)?;
            }
            f.descriptors.iter().try_for_each(pair)
        }),
        Paint::Animations(list) => list.iter().try_for_each(|a| {
            check_str(&a.timing.easing, limits)?;
            a.pseudo.iter().try_for_each(|p| check_str(p, limits))?;
            a.keyframes.iter().try_for_each(|k| {
                check_str(&k.easing, limits)?;
                k.properties.iter().try_for_each(pair)
            })
        }),
        Paint::ColorScheme(_) | Paint::TopLayer(_) | Paint::SelectPopup(_) => Ok(()),
    }
}

fn validate_snapshot(s: &Snapshot, budget: &mut NodeBudget<'_>) -> Result<(), DecodeError> {
    budget.tree(&s.nodes, s.first_id, &s.names)?;
    if !matches!(s.nodes[0].data, NodeData::Document { .. }) {
        return Err(DecodeError::Invalid(
            "snapshot root is not a document".into(),
        ));
    }
    for sheet in &s.sheets {
        check_sheet(sheet, budget.limits)?;
    }
    Ok(())
}

fn validate_mutations(m: &MutationBatch, budget: &mut NodeBudget<'_>) -> Result<(), DecodeError> {
    for insert in &m.inserts {
        if let Insert::New(sub) = insert {
            budget.tree(&sub.nodes, sub.first_id, &m.names)?;
            // A subtree inserted under (or before) one of its own new nodes describes a cycle:
            // no DOM can hold it, and a receiver must not have to decide what it means.
            let own = u64::from(sub.first_id)..u64::from(sub.first_id) + sub.nodes.len() as u64;
            let inside = |id: NodeId| own.contains(&u64::from(id));
            if inside(sub.parent) || sub.next_sibling.is_some_and(inside) {
                return Err(DecodeError::Invalid(format!(
                    "subtree {} is inserted relative to one of its own nodes",
                    sub.first_id
                )));
            }
        }
    }
    for a in &m.attrs {
        if !m.names.contains(a.name) {
            return Err(DecodeError::Invalid(format!(
                "attribute name id {} is not in the dictionary or the batch's table",
                a.name.0
            )));
        }
        if let Some(v) = &a.value {
            check_str(v, budget.limits)?;
        }
    }
    for t in &m.texts {
        check_str(&t.text, budget.limits)?;
    }
    Ok(())
}

/// Encodes `msg` with a varint length prefix, for byte streams and storage.
pub fn encode_delimited(msg: &Message) -> Vec<u8> {
    let frame = encode(msg);
    let mut out = postcard::to_stdvec(&(frame.len() as u64)).expect("u64 always encodes");
    out.extend_from_slice(&frame);
    out
}

/// Reads a length prefix: `Ok(Some((frame_len, prefix_len)))`, `Ok(None)` when more bytes are
/// needed, or an error when the prefix is malformed or announces a frame over the limit.
pub fn decode_delimited_len(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(usize, usize)>, DecodeError> {
    match postcard::take_from_bytes::<u64>(buf) {
        Ok((len, rest)) => {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > limits.max_frame_bytes {
                return Err(DecodeError::TooLarge {
                    what: "frame",
                    limit: limits.max_frame_bytes,
                    actual: len,
                });
            }
            Ok(Some((len, buf.len() - rest.len())))
        }
        Err(postcard::Error::DeserializeUnexpectedEnd) => Ok(None),
        Err(e) => Err(DecodeError::Invalid(format!("length prefix: {e}"))),
    }
}

/// Incremental reader for length-delimited frames: feed bytes as they arrive, take whole messages
/// out. Tells "need more bytes" (`Ok(None)`) from "invalid".
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    limits: Limits,
}

impl FrameReader {
    /// A reader with the given limits.
    pub fn new(limits: Limits) -> Self {
        FrameReader {
            buf: Vec::new(),
            limits,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        let Some((len, prefix)) = decode_delimited_len(&self.buf, &self.limits)? else {
            return Ok(None);
        };
        if self.buf.len() < prefix + len {
            return Ok(None);
        }
        let msg = decode_with(&self.buf[prefix..prefix + len], &self.limits);
        self.buf.drain(..prefix + len);
        msg.map(Some)
    }

    /// Bytes buffered but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}
