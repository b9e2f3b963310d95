//! Browser side (filled next).
