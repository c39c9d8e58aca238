#!/usr/bin/env python3
"""Turns a text file into a C header with one string constant, for files
that are embedded in the program at build time (src/cli/html_report.js).

usage: embed_text.py NAME INPUT OUTPUT

Writes `static const char NAME[] = "...";` (UTF-8 bytes, escaped).  Fails
on a file that holds "</script" (it could not be inlined into a page) or a
NUL byte."""
import sys


def main():
    name, src, dst = sys.argv[1:4]
    with open(src, "rb") as f:
        data = f.read()
    if b"</script" in data.lower() or b"\0" in data:
        sys.exit("%s: holds '</script' or a NUL byte: cannot be inlined" % src)
    out = ["/* Generated from %s by scripts/embed_text.py: do not edit. */\n" % src.split("/")[-1],
           "static const char %s[] =\n" % name]
    for line in data.splitlines(keepends=True):
        s = "".join(c if 0x20 <= b < 0x7f and c not in '"\\?' else "\\%03o" % b
                    for b, c in ((b, chr(b)) for b in line))
        out.append('\t"%s"\n' % s)
    out.append('\t"";\n')
    with open(dst, "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()
