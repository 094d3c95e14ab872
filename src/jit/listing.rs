//! The listing of `ebpf-lab jit`: each instruction next to the x86-64 it became.
