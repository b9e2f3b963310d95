//! What the recorder sends at most once per animation frame (latest value wins, see
//! [`crate::throttle`]): the slots, the values they carry, and the message each becomes.

use cobrowse_protocol::{
    Message, Party, Pointer, PseudoState, ScrollPosition, ScrollTarget, Viewport,
};

/// What a throttled slot is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The window's or an element's scroll offsets.
    Scroll(ScrollTarget),
    /// The customer's pointer.
    Pointer,
    /// The customer's viewport.
    Viewport,
    /// Hover, focus and active targets.
    Pseudo,
    /// The text selection.
    Selection,
    /// What the page paints beyond its DOM (`Paint` topics marked dirty).
    Paint,
}

/// What a throttled slot carries.
#[derive(Debug, Clone, Copy)]
pub enum SlotValue {
    /// Scroll offsets (x, y).
    Scroll(i32, i32),
    /// Pointer position in the viewport; `None` when it left the page.
    Pointer(Option<(i32, i32)>),
    /// Viewport size and pixel ratio.
    Viewport(Viewport),
    /// Pseudo-class targets.
    Pseudo(PseudoState),
    /// The selection changed; it is read when the frame comes.
    Selection,
    /// Paint topics changed; they are read when the frame comes.
    Paint,
}

/// The message a slot's latest value becomes. `None` for the selection and paint topics (the
/// recorder reads them from the page when the frame comes) and for a value that does not belong
/// to its slot.
pub fn message(slot: Slot, value: SlotValue) -> Option<Message> {
    Some(match (slot, value) {
        (Slot::Scroll(target), SlotValue::Scroll(x, y)) => {
            Message::Scroll(ScrollPosition { target, x, y })
        }
        (Slot::Pointer, SlotValue::Pointer(pos)) => Message::Pointer(Pointer {
            party: Party::Customer,
            pos,
            frame: None,
        }),
        (Slot::Viewport, SlotValue::Viewport(v)) => Message::Viewport(v),
        (Slot::Pseudo, SlotValue::Pseudo(p)) => Message::Pseudo(p),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_becomes_its_message() {
        assert_eq!(
            message(Slot::Scroll(ScrollTarget::Node(7)), SlotValue::Scroll(3, 4)),
            Some(Message::Scroll(ScrollPosition {
                target: ScrollTarget::Node(7),
                x: 3,
                y: 4,
            }))
        );
        assert_eq!(
            message(Slot::Pointer, SlotValue::Pointer(None)),
            Some(Message::Pointer(Pointer {
                party: Party::Customer,
                pos: None,
                frame: None,
            }))
        );
        let v = Viewport {
            width: 800,
            height: 600,
            dpr_centi: 200,
        };
        assert_eq!(
            message(Slot::Viewport, SlotValue::Viewport(v)),
            Some(Message::Viewport(v))
        );
    }

    #[test]
    fn the_selection_and_mismatched_values_are_left_to_the_caller() {
        assert_eq!(message(Slot::Selection, SlotValue::Selection), None);
        assert_eq!(message(Slot::Paint, SlotValue::Paint), None);
        assert_eq!(message(Slot::Pointer, SlotValue::Scroll(1, 2)), None);
    }
}
