//! The browser side: everything that touches `web_sys`. The pure logic it drives lives in the
//! crate's other modules.

pub mod actions;
pub mod canvas;
pub mod client;
pub mod dom;
pub mod facts;
pub mod images;
pub mod lang;
pub mod media;
pub mod paint;
pub mod recorder;
pub mod records;
pub mod restrict;
pub mod selection;
pub mod sheets;
pub mod strict;
pub mod ui;
pub mod values;
