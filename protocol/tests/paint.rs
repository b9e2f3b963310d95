//! `Paint` frames: every topic round-trips with realistic contents, each is page state, and every
//! string in them is held to the string limit.

use cobrowse_protocol::*;

fn animation() -> ScriptAnimation {
    ScriptAnimation {
        key: 4,
        node: 12,
        pseudo: Some("::after".into()),
        keyframes: vec![
            Keyframe {
                offset_millionths: None,
                easing: "linear".into(),
                composite: Composite::Auto,
                properties: vec![("opacity".into(), "1".into())],
            },
            Keyframe {
                offset_millionths: Some(1_000_000),
                easing: "ease-in".into(),
                composite: Composite::Add,
                properties: vec![
                    ("opacity".into(), "0.25".into()),
                    ("transform".into(), "translateX(300px)".into()),
                ],
            },
        ],
        timing: AnimationTiming {
            delay_us: -500_000,
            end_delay_us: 0,
            duration_us: Some(1_000),
            iterations_milli: None,
            iteration_start_milli: 500,
            direction: PlaybackDirection::AlternateReverse,
            fill: FillMode::Forwards,
            easing: "steps(4, end)".into(),
        },
        composite: Composite::Replace,
        state: PlayState::Finished,
        current_us: Some(1_000),
        rate_milli: -2_000,
    }
}

fn font() -> ScriptFont {
    ScriptFont {
        doc: 1,
        family: "Shop Script".into(),
        source: FontSource::Css("url(fonts/a.woff2) format(\"woff2\")".into()),
        base_url: "https://shop.example/p/".into(),
        descriptors: vec![
            ("weight".into(), "100 900".into()),
            ("unicodeRange".into(), "U+0-FF".into()),
        ],
    }
}

fn every_topic() -> Vec<Paint> {
    vec![
        Paint::ColorScheme(ColorScheme::Dark),
        Paint::Undefined(vec!["late-tile".into(), "x-a".into()]),
        Paint::Fonts(vec![
            font(),
            ScriptFont {
                source: FontSource::Data(vec![0, 1, 0, 0, 0xff]),
                descriptors: vec![],
                ..font()
            },
        ]),
        Paint::Animations(vec![animation()]),
        Paint::TopLayer(vec![TopLayerEntry {
            node: 3,
            kind: TopLayerKind::Popover,
        }]),
        Paint::SelectPopup(None),
        Paint::SelectPopup(Some(SelectPopup {
            node: 8,
            highlighted: None,
        })),
    ]
}

#[test]
fn every_topic_round_trips_and_is_page_state() {
    for p in every_topic() {
        let msg = Message::Paint(p);
        assert_eq!(decode(&encode(&msg)).as_ref(), Ok(&msg));
        assert_eq!(msg.tag(), tags::PAINT);
        assert!(msg.is_page_state(), "a late joiner needs {msg:?}");
    }
}

#[test]
fn strings_in_paint_frames_are_limited() {
    let small = Limits {
        max_string_bytes: 16,
        ..Limits::default()
    };
    let long = "x".repeat(17);
    let mut cases = vec![
        Paint::Undefined(vec![format!("a-{long}")]),
        Paint::Fonts(vec![ScriptFont {
            family: long.clone(),
            descriptors: vec![],
            source: FontSource::Css("url(a)".into()),
            base_url: String::new(),
            ..font()
        }]),
        Paint::Fonts(vec![ScriptFont {
            family: "F".into(),
            descriptors: vec![("weight".into(), long.clone())],
            source: FontSource::Css("url(a)".into()),
            base_url: String::new(),
            ..font()
        }]),
    ];
    let mut a = animation();
    a.keyframes[1].properties[1].1 = long.clone();
    a.timing.easing = "linear".into();
    cases.push(Paint::Animations(vec![a]));
    for p in cases {
        let frame = encode(&Message::Paint(p.clone()));
        match decode_with(&frame, &small) {
            Err(DecodeError::TooLarge { what: "string", .. }) => {}
            other => panic!("{p:?} decoded as {other:?}"),
        }
    }
    // Font data is bytes, not a string: only the frame limit bounds it.
    let data = Paint::Fonts(vec![ScriptFont {
        family: "F".into(),
        source: FontSource::Data(vec![7; 64]),
        base_url: String::new(),
        descriptors: vec![],
        doc: 1,
    }]);
    assert!(decode_with(&encode(&Message::Paint(data)), &small).is_ok());
}

#[test]
fn a_paint_frame_of_an_unknown_topic_is_invalid() {
    // Variant 6 does not exist (yet): refused rather than guessed at.
    assert!(matches!(
        decode(&[1, 0x1a, 6]),
        Err(DecodeError::Invalid(_))
    ));
}
