#!/usr/bin/env python3
"""Where the bytes go in an unstripped hagw binary: code+data symbol sizes
from `nm --size-sort -S -C`, summed per crate (first path segment of the
demangled Rust name; C symbols from musl/zig are "libc"), plus the largest
symbols. Usage: cross/bloat.py BINARY [N]"""
import re
import subprocess
import sys
from collections import Counter

path = sys.argv[1]
top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
out = subprocess.run(["nm", "--size-sort", "-S", "-C", path], capture_output=True, text=True, check=True).stdout
crates, syms, seen = Counter(), [], set()
for line in out.splitlines():
    parts = line.split(" ", 3)
    if len(parts) < 4 or parts[2].lower() in "bu":  # .bss takes no file space
        continue
    addr, size, _kind, name = parts
    if addr in seen:  # aliases (weak/strong pairs) share one body
        continue
    seen.add(addr)
    size = int(size, 16)
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)::", name.lstrip("<&*( "))
    crate = m.group(1) if m and "::" in name else "libc/other (C)"
    if crate in ("_", "impl"):
        crate = "other"
    crates[crate] += size
    syms.append((size, name))
total = sum(crates.values())
print(f"{'crate':28} {'bytes':>9}  share   (symbols with a size, {total} bytes total)")
for c, s in crates.most_common(top_n):
    print(f"{c:28} {s:9}  {100 * s / total:4.1f}%")
print(f"\nlargest {top_n} symbols:")
for s, n in sorted(syms, reverse=True)[:top_n]:
    print(f"{s:9}  {n[:110]}")
