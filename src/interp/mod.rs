//! The interpreter (being written).
