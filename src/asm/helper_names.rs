//! Helper names for the assemblers and disassemblers, read from the one helper table
//! ([`crate::runtime::helpers`]) so names and numbers have a single source of truth.

use crate::runtime::helpers;

/// The id of the helper named `name`, written with its `bpf_` prefix (`bpf_map_lookup_elem`).
pub fn helper_id(name: &str) -> Option<i32> {
    let bare = name.strip_prefix("bpf_")?;
    helpers::helper_by_name(bare).map(|h| h.id as i32)
}

/// The `bpf_`-prefixed name of helper `id`, if the kernel defines one.
pub fn helper_name(id: i32) -> Option<String> {
    u32::try_from(id).ok().filter(|&i| i > 0).and_then(helpers::helper).map(|h| h.c_name())
}

/// Every callable helper's bare name (without `bpf_`), for "did you mean" suggestions.
pub fn helper_names() -> impl Iterator<Item = &'static str> {
    helpers::all_helpers().iter().filter(|h| h.id != 0).map(|h| h.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_the_kernels() {
        assert_eq!(helper_id("bpf_map_lookup_elem"), Some(1));
        assert_eq!(helper_id("bpf_ringbuf_output"), Some(130));
        assert_eq!(helper_id("map_lookup_elem"), None, "the C name carries the bpf_ prefix");
        assert_eq!(helper_name(12).as_deref(), Some("bpf_tail_call"));
        assert_eq!(helper_name(0), None);
        assert_eq!(helper_name(-1), None);
        assert!(helper_names().any(|n| n == "trace_printk"));
    }
}
