//! Cobrowse server binary.
fn main() {}
