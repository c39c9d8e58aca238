#!/usr/bin/env python3
"""The global options and colour: `ctxpack -C DIR` (as git -C), --color and
NO_COLOR on the stats report and on pack --stats, and --version.  TAP
output.

usage: test_global.py CTXPACK"""
import os
import pty
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import tap  # noqa: E402
check = tap.check

CTXPACK = os.path.abspath(sys.argv[1])
BASE_ENV = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
ESC = b"\x1b["


def run(args, cwd=None, env=None, stdout=subprocess.PIPE):
    e = dict(BASE_ENV, **(env or {}))
    p = subprocess.run([CTXPACK] + args, cwd=cwd, env=e, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def on_terminal(args, env=None):
    """stdout on a pseudo-terminal; returns the exit status and what it showed."""
    master, slave = pty.openpty()
    try:
        rc, _, err = run(args, env=env, stdout=slave)
    finally:
        os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed and drained
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return rc, out


def test_chdir():
    outer = tap.tree({"inner/Dockerfile": b"FROM scratch\n", "inner/src/a.js": b"a",
                      "inner/node_modules/m.js": b"m", "inner/.dockerignore": b"node_modules\n",
                      "top.txt": b"t"}, prefix="ctxpack-C-")
    inner = os.path.join(outer, "inner")
    rc0, ls_in, err0 = run(["ls"], cwd=inner)
    rc1, ls_c, err1 = run(["-C", inner, "ls"])
    check("-C DIR ls: the same as cd DIR && ctxpack ls",
          rc0 == rc1 == 0 and ls_c == ls_in and b"src/a.js" in ls_c and b"top.txt" not in ls_c,
          (ls_in, ls_c, err1))
    rc, out, err = run(["-C", outer, "-C", "inner", "ls"])
    check("two -C: the second relative to the first", rc == 0 and out == ls_in, (out, err))
    rc, out, err = run(["-C", "inner", "ls", "--json"], cwd=outer)
    check("-C then command options", rc == 0 and out.startswith(b'{"version":1'), (out, err))
    rc, out, err = run(["--directory=" + inner, "ls"])
    check("--directory=DIR is -C", rc == 0 and out == ls_in, err)
    rc, out, err = run(["-C", inner, "check-ignore", "node_modules/m.js", "src/a.js"])
    check("-C DIR check-ignore: paths relative to DIR", rc == 0 and out == b"node_modules/m.js\n", (out, err))
    missing = os.path.join(outer, "no-such-dir")
    rc, out, err = run(["-C", missing, "ls"])
    check("-C a missing DIR: exit 2, names DIR and the cause",
          rc == 2 and missing.encode() in err and b"No such file or directory" in err and not out, err)
    rc, out, err = run(["-C", os.path.join(outer, "top.txt"), "ls"])
    check("-C a file: exit 2, 'Not a directory'", rc == 2 and b"Not a directory" in err, err)
    rc, out, err = run(["-C", outer, "-C", "no-such-dir", "ls"])
    check("second -C missing: exit 2, names it", rc == 2 and b"'no-such-dir'" in err, err)
    rc, out, err = run(["-C"])
    check("-C without DIR: usage error, exit 2", rc == 2 and b"-C" in err, err)
    rc, out, err = run(["-C", inner])
    check("-C DIR without a command: usage, exit 2", rc == 2 and b"usage" in err, err)
    rc, out, err = run(["--no-such-global", "ls"])
    check("unknown global option: exit 2, named", rc == 2 and b"--no-such-global" in err, err)
    rc, out, err = run(["ls", "-C", inner])
    check("-C after ls is ls's business (unknown there): exit 2", rc == 2, err)


def test_color():
    ctx = tap.tree({"Dockerfile": b"FROM scratch\n", "src/a.js": b"a" * 100, "build/out.bin": b"b" * 5000},
                   b"build\n", prefix="ctxpack-color-")
    stats = ["stats", ctx]
    cases = [
        ([], {}, False, "stats into a pipe: no colour (auto)"),
        (["--color=auto"], {}, False, "--color=auto into a pipe: none"),
        (["--color=always"], {}, True, "--color=always into a pipe: colour"),
        (["--color"], {}, True, "bare --color is always"),
        (["--color=never"], {}, False, "--color=never: none"),
        (["--color=always"], {"NO_COLOR": "1"}, True, "NO_COLOR=1 --color=always: colour (explicit wins)"),
        (["--color=auto"], {"NO_COLOR": "1"}, False, "NO_COLOR=1 --color=auto: none"),
    ]
    for extra, env, want, name in cases:
        rc, out, err = run(stats + extra, env=env)
        check(name, rc == 0 and (ESC in out) == want and b"sent" in out, (rc, out[:300], err))
    rc, out, err = run(stats + ["--color=sometimes"])
    check("--color=sometimes: exit 2, names --color", rc == 2 and b"--color" in err and not out, err)
    rc, out, err = run(["--color=always"] + stats)
    check("global --color=always before the command: colour", rc == 0 and ESC in out, out[:200])
    rc, out, err = run(["--color=always"] + stats + ["--color=never"])
    check("the command's --color overrides the global one", rc == 0 and ESC not in out, out[:200])
    rc, out, err = run(["--color=bogus"] + stats)
    check("global --color=bogus: exit 2", rc == 2 and b"--color" in err, err)
    rc, out, err = run(stats + ["--json", "--color=always"])
    check("--json is never coloured", rc == 0 and ESC not in out, out[:200])

    # A terminal: auto colours unless NO_COLOR is set and not empty.
    rc, out = on_terminal(stats)
    check("on a terminal: colour (auto)", rc == 0 and ESC in out, out[:200])
    rc, out = on_terminal(stats, env={"NO_COLOR": "1"})
    check("on a terminal with NO_COLOR=1: none", rc == 0 and ESC not in out and b"sent" in out, out[:200])
    rc, out = on_terminal(stats, env={"NO_COLOR": ""})
    check("on a terminal with NO_COLOR empty: colour (no-color.org)", rc == 0 and ESC in out, out[:200])
    rc, out = on_terminal(stats + ["--color=never"])
    check("on a terminal with --color=never: none", rc == 0 and ESC not in out, out[:200])

    # pack --stats: the same report on stderr.
    tar = os.path.join(tap.mkdtemp(), "c.tar")
    base = ["pack", "-q", "--progress=never", "-o", tar, "--stats", ctx]
    rc, out, err = run(base + ["--color=always"], env={"NO_COLOR": "1"})
    check("pack --stats --color=always: the report on stderr coloured", rc == 0 and ESC in err, err[:300])
    rc, out, err = run(base)
    check("pack --stats into a pipe: no colour", rc == 0 and ESC not in err and b"sent" in err, err[:300])
    rc, out, err = run(base + ["--color=never"])
    check("pack --stats --color=never: none", rc == 0 and ESC not in err, err[:300])
    rc, out, err = run(base + ["--color=maybe"])
    check("pack --color=maybe: exit 2", rc == 2 and b"--color" in err, err)


def test_version():
    rc, out, err = run(["--version"])
    lines = out.decode().splitlines()
    names = [l.split()[0] for l in lines]
    check("--version: ctxpack, libarchive, zstd and xxhash versions",
          rc == 0 and names == ["ctxpack", "libarchive", "zstd", "xxhash"] and all(len(l.split()) > 1 for l in lines),
          out)
    for alt in (["-V"], ["version"], ["-C", "/", "--version"]):
        rc2, out2, err2 = run(alt)
        check("%s prints the same" % " ".join(alt), rc2 == 0 and out2 == out, out2)


def test_option_errors():
    """A usage error names the option getopt stopped at, also inside a
    cluster of short options."""
    for args, want in ((["-xV"], b"unknown option '-x'"),
                       (["pack", "-yq", "."], b"unknown option '-y'"),
                       (["pack", "-f"], b"option '-f' requires an argument"),
                       (["-C"], b"option '-C' requires an argument"),
                       (["pack", "--bogus"], b"'--bogus'"),
                       (["pack", "--file"], b"'--file'")):
        rc, out, err = run(args)
        check("usage error for %s: exit 2, the message names it" % " ".join(args),
              rc == 2 and want in err and b"Try 'ctxpack" in err, (rc, err))


def main():
    test_chdir()
    test_color()
    test_version()
    test_option_errors()
    sys.exit(tap.finish())


main()
