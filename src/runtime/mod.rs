//! The runtime shared by every engine: maps, helpers, program contexts (being written).
