#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds: the assembly examples, the conformance programs
# (../shared/conformance, when present) in both syntaxes and as bytecode, and the C examples
# compiled with clang-19 (when present). Run from anywhere; needs a built `ebpf-lab`.
set -euo pipefail
cd "$(dirname "$0")"
root=..
lab="${EBPF_LAB:-$root/target/debug/ebpf-lab}"
[ -x "$lab" ] || (cd "$root" && cargo build --quiet)
conf="$root/../shared/conformance/bpf_conformance"
mkdir -p corpus/{asm_llvm,asm_ubpf,decode,elf,interp,jit,roundtrip,verifier}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every program as assembly text, one file each.
for s in "$root"/examples/*.s; do cp "$s" "$tmp/ex_$(basename "$s")"; done
if [ -d "$conf" ]; then
    for d in "$conf"/*.data; do
        awk '/^-- /{on=($2=="asm")} on && !/^-- /' "$d" > "$tmp/conf_$(basename "$d" .data).s"
    done
fi
n=0
for s in "$tmp"/*.s; do
    name=$(basename "$s" .s)
    "$lab" asm "$s" -o "$tmp/$name.bin" 2>/dev/null || continue
    n=$((n + 1))
    cp "$tmp/$name.bin" corpus/decode/
    cp "$tmp/$name.bin" corpus/roundtrip/
    # The interp and jit targets' first byte picks the type and memory size: mem, 16 bytes.
    { printf '\x40'; cat "$tmp/$name.bin"; } > "corpus/interp/$name"
    cp "corpus/interp/$name" corpus/jit/
    # The verifier target's first two bytes: buffer length 16, buffer seed 3.
    { printf '\x10\x03'; cat "$tmp/$name.bin"; } > "corpus/verifier/$name"
    "$lab" disasm --syntax llvm "$tmp/$name.bin" > "corpus/asm_llvm/$name.s"
    "$lab" disasm --syntax ubpf "$tmp/$name.bin" > "corpus/asm_ubpf/$name.s"
done
cp "$tmp"/ex_*.s corpus/asm_llvm/ 2>/dev/null || true
cp "$tmp"/conf_*.s corpus/asm_ubpf/ 2>/dev/null || true

if command -v clang-19 >/dev/null; then
    for c in "$root"/examples/c/*.c; do
        clang-19 -target bpf -O2 -g -c -I "$root/examples/c" -I /usr/include/x86_64-linux-gnu \
            "$c" -o "corpus/elf/$(basename "$c" .c).o" 2>/dev/null || true
        clang-19 -target bpf -O2 -c -I "$root/examples/c" -I /usr/include/x86_64-linux-gnu \
            "$c" -o "corpus/elf/$(basename "$c" .c)_nodebug.o" 2>/dev/null || true
    done
fi
echo "seeded: $n programs; $(ls corpus/elf | wc -l) ELF objects"
