#!/usr/bin/env python3
"""test_example.py: examples/libctxpack/explain_pack (built in the tree
against the shared libctxpack) does what the ctxpack program does.

    test_example.py EXPLAIN_PACK CTXPACK WEBAPP_DIR

- its archive (on a pipe, and with -o FILE) equals `ctxpack pack` byte for
  byte, for both builders;
- its explanation of paths (RULE<TAB>PATH) equals `ctxpack check-ignore -v
  -n`, and its verdict and sent columns equal check-ignore --json;
- -l lists the members of that archive, in order;
- errors: a missing directory is exit 1 with the name in the message, a
  usage error exit 2.
Prints TAP.
"""
import io
import json
import os
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import tap  # noqa: E402

PATHS = ["Dockerfile", "src/index.js", "src/debug.log", "node_modules/left-pad/index.js",
         "node_modules", "dist/bundle.js", "docs", "docs/help.md", "docs/design.md",
         "logs/access.log", ".env", "no/such/file", "."]


def run(argv, **kw):
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)  # the program would clamp with it
    return subprocess.run(argv, capture_output=True, env=env, **kw)


def main():
    example, ctxpack, webapp = sys.argv[1:4]
    for builder in ("buildkit", "classic"):
        want = run([ctxpack, "pack", "--builder=" + builder, webapp])
        tap.check("%s: ctxpack pack runs" % builder, want.returncode == 0, want.stderr)

        got = run([example, "-b", builder, webapp])
        tap.check("%s: archive on a pipe exits 0" % builder, got.returncode == 0, got.stderr)
        tap.check("%s: archive on a pipe equals ctxpack pack" % builder,
                  got.stdout == want.stdout and len(got.stdout) > 1024,
                  "%d vs %d bytes" % (len(got.stdout), len(want.stdout)))

        out = os.path.join(tap.mkdtemp(), "ctx.tar")
        got = run([example, "-b", builder, "-o", out, webapp], stdin=subprocess.DEVNULL)
        with open(out, "rb") as f:
            data = f.read()
        tap.check("%s: -o FILE equals ctxpack pack" % builder,
                  got.returncode == 0 and data == want.stdout, got.stderr)

        # Explanations: lines on stdout when the archive goes to a file.
        got = run([example, "-b", builder, "-o", out, webapp] + PATHS)
        lines = got.stdout.decode().splitlines()
        ci = run([ctxpack, "check-ignore", "--builder=" + builder, "-C", webapp, "-v", "-n"]
                 + PATHS)
        tap.check("%s: explanations exit 0" % builder, got.returncode == 0, got.stderr)
        tap.check("%s: RULE<TAB>PATH equals check-ignore -v -n" % builder,
                  ["\t".join(l.split("\t")[:2]) for l in lines] == ci.stdout.decode().splitlines(),
                  "example:\n%s\ncheck-ignore:\n%s" % (got.stdout.decode(), ci.stdout.decode()))
        cj = run([ctxpack, "check-ignore", "--builder=" + builder, "-C", webapp, "--json"]
                 + PATHS)
        results = json.loads(cj.stdout)["results"] if cj.returncode in (0, 1) else []
        want_cols = [[r["verdict"], "sent" if r["sent"] else "not sent"] for r in results]
        got_cols = [[l.split("\t")[2], l.split("\t")[3].split(",")[0]] for l in lines]
        tap.check("%s: verdict and sent equal check-ignore --json" % builder,
                  got_cols == want_cols and len(got_cols) == len(PATHS),
                  "example %s\ncheck-ignore %s" % (got_cols, want_cols))

        # -l: the members of the archive, in order.
        got = run([example, "-b", builder, "-l", webapp], stdin=subprocess.DEVNULL)
        listed = []
        for l in got.stderr.decode().splitlines():
            parts = l.split(None, 3)
            if len(parts) == 4 and len(parts[0]) == 1:
                listed.append(parts[3].split(" -> ")[0].split(" => ")[0])
        with tarfile.open(fileobj=io.BytesIO(want.stdout)) as t:
            names = [m.name + ("/" if m.isdir() else "") for m in t.getmembers()]
        tap.check("%s: -l lists the archive's members" % builder,
                  got.returncode == 0 and listed == names, "%s\nvs\n%s" % (listed, names))

    got = run([example, os.path.join(webapp, "no-such-dir")], stdin=subprocess.DEVNULL)
    tap.check("a missing directory: exit 1, named",
              got.returncode == 1 and b"no-such-dir" in got.stderr, got.stderr)
    got = run([example, "-o", "/nonexistent-dir/x.tar", webapp])
    tap.check("an output that cannot be created: exit 1",
              got.returncode == 1 and b"/nonexistent-dir/x.tar" in got.stderr, got.stderr)
    got = run([example, webapp, "../outside"], stdin=subprocess.DEVNULL)
    tap.check("a path outside the context: exit 1", got.returncode == 1
              and b"outside the context" in got.stderr, got.stderr)
    got = run([example])
    tap.check("no directory: usage, exit 2", got.returncode == 2 and b"usage" in got.stderr,
              got.stderr)
    got = run([example, "-b", "nope", webapp])
    tap.check("an unknown builder: exit 2", got.returncode == 2, got.stderr)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
