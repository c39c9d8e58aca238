#!/usr/bin/env python3
"""check_symbols.py: the shared libctxpack exports exactly the public API.

    check_symbols.py HEADER VERSION_SCRIPT LIBRARY

Three lists must be the same set: the functions ctxpack.h declares with
CTXPACK_API, the names the linker version script (src/libctxpack.sym)
makes global, and the functions `nm -D --defined-only` finds in the built
library.  Every export must carry a version node of the script
(name@@CTXPACK_0.1), and nothing else may be defined in the dynamic symbol
table but those nodes (an internal symbol leaking out, a function missing
from the script or from the header, a declared function never built: each
fails, naming the symbol).  Prints TAP; skips visibly without nm.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import tap  # noqa: E402


def header_functions(text):
    """Names of the functions declared CTXPACK_API (not the #define)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
    names = []
    for decl in re.findall(r"\bCTXPACK_API\b([^;{]*)[;{]", text):
        m = re.search(r"\b([A-Za-z_]\w*)\s*\(", decl)
        if m:
            names.append(m.group(1))
    return names


def script_symbols(text):
    """{version node: [global names]} of a GNU ld version script."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    nodes = {}
    for node, body in re.findall(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;", text, flags=re.S):
        names, scope = [], None
        for tok in re.findall(r"[^\s;]+:|[^\s;]+", body):
            if tok.endswith(":"):
                scope = tok[:-1]
            elif scope == "global":
                names.append(tok)
        nodes[node] = names
    return nodes


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: check_symbols.py HEADER VERSION_SCRIPT LIBRARY\n")
        return 2
    header, script, lib = sys.argv[1:]
    with open(header) as f:
        declared = header_functions(f.read())
    with open(script) as f:
        nodes = script_symbols(f.read())
    scripted = [n for names in nodes.values() for n in names]

    tap.check("the header declares CTXPACK_API functions", len(declared) > 0)
    tap.check("no function is declared twice in the header",
              len(declared) == len(set(declared)),
              sorted(n for n in set(declared) if declared.count(n) > 1))
    tap.check("the version script has a node", len(nodes) > 0, script)
    tap.check("the version script uses no wildcard among the globals",
              not [n for n in scripted if any(c in n for c in "*?[")],
              [n for n in scripted if any(c in n for c in "*?[")])
    tap.check("every header function is in the version script",
              not set(declared) - set(scripted), sorted(set(declared) - set(scripted)))
    tap.check("every version script name is declared in the header",
              not set(scripted) - set(declared), sorted(set(scripted) - set(declared)))

    nm = shutil.which("nm")
    if not nm:
        tap.skip("the library exports exactly the header's functions", "nm not installed")
        return tap.finish()
    out = subprocess.run([nm, "-D", "--defined-only", lib], capture_output=True, text=True)
    tap.check("nm -D reads the library", out.returncode == 0, out.stderr)
    exported, unversioned, other = {}, [], []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        name, _, version = sym.partition("@")
        version = version.lstrip("@")
        if kind == "A" and name in nodes:
            continue  # the version node itself
        if kind not in ("T", "t", "W", "i"):
            other.append(line)
            continue
        exported[name] = version
        if version not in nodes:
            unversioned.append(sym)
    tap.check("no symbol but functions is exported", not other, "\n".join(other))
    tap.check("no function is exported that the header does not declare",
              not set(exported) - set(declared), sorted(set(exported) - set(declared)))
    tap.check("every function the header declares is exported",
              not set(declared) - set(exported), sorted(set(declared) - set(exported)))
    tap.check("every export carries a version node of the script", not unversioned,
              unversioned)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
