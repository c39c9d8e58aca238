#!/usr/bin/env python3
"""contrib/ci/ctxpack-build.sh: budgets, digest-based skipping, building.

A fake build command (a script that counts its runs and keeps what it read
on stdin) stands in for `docker build -`:

- the first run builds (the fake reads exactly `ctxpack pack`'s archive) and
  stores `ctxpack digest`'s value in the state file;
- a second run prints "context unchanged (xxh3-128:...): build skipped" and
  does not build;
- a one-byte edit to a sent file (same size) builds again, with a new digest;
- an edit to an ignored file still skips;
- a broken budget (option or environment variable) exits 4 and builds nothing;
- a failed build exits 1 and leaves the state file alone, so the next run
  builds again;
- a state file inside the context that would be sent is refused (exit 2),
  one the rules exclude is fine; usage errors exit 2;
- --compress=gzip hands the build a gzip stream of the same archive;
- $GITHUB_OUTPUT receives built= and digest=;
- --lint runs ctxpack lint first: errors exit 3 and build nothing, warnings
  go through (not with --lint=strict), GitHub annotations under Actions,
  the repository's .ctxpack.conf applies;
- the default build command (docker build -f NAME -t TAG -) through the
  stand-in engine: the engine gets pack's archive, the tag and the
  Dockerfile's name inside the archive (also .dockerfile.<hex> for one
  outside the context); skipped without docker.

usage: test_ci_build.py PATH_TO_CTXPACK"""
import gzip
import os
import re
import subprocess
import sys
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
import fakeengine  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
SCRIPT = os.path.join(HERE, "..", "..", "contrib", "ci", "ctxpack-build.sh")
DIGEST = re.compile(r"xxh3-128:[0-9a-f]{32}")

FAKE_BUILD = r"""#!/bin/sh
# Records that it ran and what it read; exits $FAKE_BUILD_RC (default 0).
n=$(cat "$FAKE_DIR/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$FAKE_DIR/count"
cat > "$FAKE_DIR/stdin.$n"
printf '%s\n' "$*" > "$FAKE_DIR/args.$n"
exit "${FAKE_BUILD_RC:-0}"
"""


class Env:
    def __init__(self):
        self.base = tap.mkdtemp("ctxpack-ci-")
        self.ctx = os.path.join(self.base, "ctx")
        self.fake_dir = os.path.join(self.base, "fake")
        os.makedirs(self.fake_dir)
        self.fake = os.path.join(self.base, "fake-build")
        with open(self.fake, "w") as f:
            f.write(FAKE_BUILD)
        os.chmod(self.fake, 0o755)
        self.state = os.path.join(self.base, "cache", "ctxpack-digest")
        self.cache = os.path.join(self.base, "xdg-cache")
        for path, content in {
            "Dockerfile": b"FROM scratch\nCOPY . /\n",
            "src/app.py": b"print('hello')\n",
            "src/lib.py": b"VALUE = 1\n",
            "notes/todo.txt": b"ignored notes\n",
            "debug.log": b"ignored log\n",
        }.items():
            tap.write(self.ctx, path, content)
        tap.write(self.ctx, ".dockerignore", b"notes\n*.log\n.ctxpack-digest\n")
        # So that every rule decides something (--fail-on-dead-rules holds).
        tap.write(self.ctx, ".ctxpack-digest", b"stale\n")

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("CTXPACK", "GITHUB_", "FAKE_"))
             and k != "SOURCE_DATE_EPOCH"}
        e.update({"CTXPACK": CTXPACK, "XDG_CACHE_HOME": self.cache,
                  "FAKE_DIR": self.fake_dir})
        e.update(extra or {})
        return e

    def run(self, args, extra_env=None, build=True, cwd=None):
        argv = ["bash", SCRIPT] + args
        if build:
            argv += ["--", self.fake, "build", "-"]
        p = subprocess.run(argv, cwd=cwd or self.ctx, stdin=subprocess.DEVNULL,
                           capture_output=True, env=self.env(extra_env), timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def builds(self):
        try:
            with open(os.path.join(self.fake_dir, "count")) as f:
                return int(f.read())
        except FileNotFoundError:
            return 0

    def last_stdin(self):
        with open(os.path.join(self.fake_dir, "stdin.%d" % self.builds()), "rb") as f:
            return f.read()

    def stored(self):
        try:
            with open(self.state) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def ctxpack(self, args):
        p = subprocess.run([CTXPACK] + args, cwd=self.ctx, capture_output=True,
                           env=self.env(), stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr


def test_cycle():
    t = Env()
    st = ["--state", t.state]
    rc, out, err = t.run(st)
    _, want_digest, _ = t.ctxpack(["digest", "."])
    want_digest = want_digest.decode().strip()
    _, want_tar, _ = t.ctxpack(["pack", "."])
    tap.check("first run: exit 0, the build ran once", rc == 0 and t.builds() == 1,
              (rc, t.builds(), out, err))
    tap.check("first run: the build read exactly ctxpack pack's archive on stdin",
              t.builds() == 1 and t.last_stdin() == want_tar and len(want_tar) > 1024,
              t.builds())
    tap.check("first run: the build command got its own arguments",
              open(os.path.join(t.fake_dir, "args.1")).read() == "build -\n")
    tap.check("first run: the state file holds ctxpack digest's value",
              DIGEST.fullmatch(want_digest) and t.stored() == want_digest + "\n",
              (t.stored(), want_digest))

    rc, out, err = t.run(st)
    tap.check("second run: exit 0, 'context unchanged (<digest>): build skipped', no build",
              rc == 0 and t.builds() == 1
              and "context unchanged (%s): build skipped" % want_digest in out,
              (rc, t.builds(), out, err))

    # A one-byte edit, same size: only the content hash can tell.
    p = os.path.join(t.ctx, "src", "app.py")
    with open(p, "r+b") as f:
        f.seek(7)
        f.write(b"H")
    rc, out, err = t.run(st)
    _, d2, _ = t.ctxpack(["digest", "."])
    d2 = d2.decode().strip()
    tap.check("one-byte edit of a sent file: builds again", rc == 0 and t.builds() == 2,
              (rc, t.builds(), out, err))
    tap.check("one-byte edit: the new digest is stored and differs from the old",
              d2 != want_digest and t.stored() == d2 + "\n", (t.stored(), d2))

    with open(os.path.join(t.ctx, "notes", "todo.txt"), "ab") as f:
        f.write(b"more\n")
    with open(os.path.join(t.ctx, "debug.log"), "ab") as f:
        f.write(b"more\n")
    rc, out, err = t.run(st)
    tap.check("edits to ignored files only: still skipped",
              rc == 0 and t.builds() == 2 and "build skipped" in out, (rc, t.builds(), out))

    # Budgets: a broken one exits 4 and builds nothing, even with a change.
    tap.write(t.ctx, "src/new.py", b"NEW = 2\n")
    before = t.stored()
    rc, out, err = t.run(st + ["--max-files", "2"])
    tap.check("--max-files 2 (3 files sent): exit 4, no build, state unchanged",
              rc == 4 and t.builds() == 2 and t.stored() == before
              and "budget max-files broken" in err, (rc, t.builds(), err))
    rc, out, err = t.run(st, {"CTXPACK_MAX_SIZE": "1K"})
    tap.check("CTXPACK_MAX_SIZE=1K (env): exit 4, no build",
              rc == 4 and t.builds() == 2 and "max-size" in err, (rc, t.builds(), err))
    rc, out, err = t.run(st + ["--min-reduction", "99"])
    tap.check("--min-reduction 99: exit 4, no build", rc == 4 and t.builds() == 2, (rc, err))
    rc, out, err = t.run(st + ["--max-files", "10", "--max-size", "1M", "--min-reduction",
                               "1"], {"CTXPACK_FAIL_ON_DEAD_RULES": "1"})
    tap.check("budgets that hold (and every rule decides something): builds",
              rc == 0 and t.builds() == 3, (rc, t.builds(), out, err))
    tap.write(t.ctx, ".dockerignore", b"notes\n*.log\n.ctxpack-digest\nnothing-matches\n")
    rc, out, err = t.run(st + ["--fail-on-dead-rules"])
    tap.check("--fail-on-dead-rules with a dead rule: exit 4, no build",
              rc == 4 and t.builds() == 3, (rc, t.builds(), err))

    # A failed build leaves the state alone; the next run builds again.
    before = t.stored()
    rc, out, err = t.run(st, {"FAKE_BUILD_RC": "3"})
    tap.check("failed build: exit 1, the digest is not stored",
              rc == 1 and t.builds() == 4 and t.stored() == before
              and "digest not stored" in err, (rc, t.builds(), t.stored(), err))
    rc, out, err = t.run(st)
    _, d3, _ = t.ctxpack(["digest", "."])
    tap.check("after a failed build the next run builds again and stores the digest",
              rc == 0 and t.builds() == 5 and t.stored() == d3.decode(),
              (rc, t.builds(), t.stored(), d3))
    rc, out, err = t.run(st + ["--force"])
    tap.check("--force builds an unchanged context", rc == 0 and t.builds() == 6, (rc, err))

    # GitHub Actions outputs.
    gh = os.path.join(t.base, "github-output")
    rc, out, err = t.run(st, {"GITHUB_OUTPUT": gh})
    with open(gh) as f:
        got = f.read()
    tap.check("$GITHUB_OUTPUT: built=false and the digest when skipped",
              rc == 0 and got == "built=false\ndigest=%s" % d3.decode(), got)
    return t


def test_state_and_usage():
    t = Env()
    # Inside the context and excluded by .dockerignore: fine.
    inside = os.path.join(t.ctx, ".ctxpack-digest")
    rc, out, err = t.run(["--state", inside])
    rc2, out2, err2 = t.run(["--state", inside])
    tap.check("a state file inside the context that the rules exclude: build, then skip",
              rc == 0 and rc2 == 0 and t.builds() == 1 and "build skipped" in out2,
              (rc, rc2, err, out2))
    rc, out, err = t.run(["--state", os.path.join(t.ctx, "src", "state")])
    tap.check("a state file inside the context that would be sent: exit 2, no build",
              rc == 2 and t.builds() == 1 and "would be sent" in err, (rc, err))
    # -f and the state file relative to the current directory, DIR another.
    t2 = Env()
    name = os.path.basename(t2.ctx)
    rc, out, err = t2.run(["-f", name + "/Dockerfile", "--state", name + "/.ctxpack-digest",
                           name], cwd=os.path.dirname(t2.ctx))
    tap.check("-f relative to the current directory with the state file inside DIR: built",
              rc == 0 and t2.builds() == 1, (rc, err))
    rc, out, err = t.run(["--bogus"])
    tap.check("unknown option: exit 2", rc == 2 and "unknown option" in err, (rc, err))
    rc, out, err = t.run(["--builder", "nope"])
    tap.check("bad --builder: exit 2", rc == 2, (rc, err))
    rc, out, err = t.run(["--state", os.path.join(t.base, "s"), "/nonexistent/dir"])
    tap.check("a missing DIR: exit 2", rc == 2 and t.builds() == 1, (rc, err))
    rc, out, err = t.run(["--help"], build=False)
    tap.check("--help prints the usage and the exit statuses",
              rc == 0 and "Exit status" in out and "budget" in out, (rc, out[:300]))
    rc, out, err = t.run(["--state", os.path.join(t.base, "s2")],
                         {"CTXPACK": "/nonexistent/ctxpack"})
    tap.check("ctxpack missing: exit 2, no build", rc == 2 and t.builds() == 1, (rc, err))

    # DIR as an argument from another directory, and gzip for kaniko.
    state = os.path.join(t.base, "gz-state")
    rc, out, err = t.run(["--state", state, "--compress", "gzip", t.ctx], cwd=t.base)
    _, plain, _ = t.ctxpack(["pack", "."])
    data = t.last_stdin() if t.builds() == 2 else b""
    try:
        unz = gzip.decompress(data)
    except (OSError, EOFError):
        unz = None
    tap.check("--compress gzip DIR: the build reads a gzip stream of the same archive",
              rc == 0 and t.builds() == 2 and data[:2] == b"\x1f\x8b" and unz == plain,
              (rc, t.builds(), err, data[:4]))
    _, dg, _ = t.ctxpack(["digest", "."])
    tap.check("--compress gzip: the stored digest is the context's (not the stream's)",
              open(state).read() == dg.decode(), (open(state).read(), dg))

    # A custom command as one shell string.
    state = os.path.join(t.base, "cmd-state")
    rc, out, err = t.run(["--state", state],
                         {"CTXPACK_BUILD_CMD": t.fake + " from-env -"}, build=False)
    tap.check("CTXPACK_BUILD_CMD: runs the command given as a string",
              rc == 0 and t.builds() == 3
              and open(os.path.join(t.fake_dir, "args.3")).read() == "from-env -\n",
              (rc, t.builds(), err))


def test_default_command():
    names = ("default build command through the stand-in engine",
             "default build command, Dockerfile outside the context")
    if fakeengine.docker_cli() is None:
        for n in names:
            tap.skip(n, "docker CLI not installed")
        return
    t = Env()
    tap.write(t.ctx, "docker/Dockerfile", b"FROM scratch\nCOPY src /src\n")
    tap.write(t.base, "ext/Dockerfile.release", b"FROM scratch\n")
    with fakeengine.FakeEngine() as eng:
        denv = eng.docker_env(t.env())
        for label, fargs, want_df in (
                ("-f docker/Dockerfile", ["-f", "docker/Dockerfile"], "docker/Dockerfile"),
                ("-f ../ext/Dockerfile.release", ["-f", "../ext/Dockerfile.release"], None)):
            before = len(eng.captures)
            state = os.path.join(t.base, "state-" + str(before))
            p = subprocess.run(["bash", SCRIPT, "--builder", "classic", "-t", "app:ci",
                                "--state", state] + fargs,
                               cwd=t.ctx, capture_output=True, env=denv, timeout=120,
                               stdin=subprocess.DEVNULL)
            eng.wait_idle()
            caps = eng.captures[before:]
            _, tar, perr = t.ctxpack(["pack", "--builder=classic"] + fargs + ["."])
            q = parse_qs(caps[-1].query) if caps else {}
            if want_df is None:
                m = re.search(rb"\.dockerfile\.[0-9a-f]{20}", perr)
                want_df = m.group(0).decode() if m else "?"
            tap.check("default command (%s): docker build -f %s -t app:ci - ran; the engine "
                      "got pack's archive" % (label, want_df),
                      p.returncode == 0 and len(caps) == 1 and caps[0].body == tar
                      and q.get("t") == ["app:ci"] and q.get("dockerfile") == [want_df],
                      (p.returncode, p.stderr[-500:], caps and caps[0].query))
            _, dg, _ = t.ctxpack(["digest", "--builder=classic"] + fargs + ["."])
            tap.check("default command (%s): the digest is stored" % label,
                      os.path.exists(state) and open(state).read() == dg.decode(),
                      dg)


def test_lint():
    t = Env()
    st = ["--state", t.state]
    rc, out, err = t.run(st + ["--lint"])
    tap.check("--lint on a clean context: builds (lint exits 0)", rc == 0 and t.builds() == 1,
              (rc, out, err))
    tap.write(t.ctx, ".env", b"TOKEN=1\n")
    rc, out, err = t.run(st + ["--lint"])
    tap.check("--lint: an error (a secret that would be sent) exits 3, nothing built",
              rc == 3 and t.builds() == 1 and "[secret-file]" in out and "lint errors" in err,
              (rc, t.builds(), out, err))
    rc, out, err = t.run(st + ["--force"])
    tap.check("without --lint the same context builds", rc == 0 and t.builds() == 2, (rc, err))
    rc, out, err = t.run(st + ["--lint"], extra_env={"GITHUB_ACTIONS": "true"})
    tap.check("--lint under GitHub Actions: workflow annotations",
              rc == 3 and "::error file=.env,title=secret-file::" in out, (rc, out, err))
    tap.write(t.ctx, ".ctxpack.conf", b"severity secret-file warning\n")
    rc, out, err = t.run(st + ["--lint", "--force"])
    tap.check("--lint follows the repository's .ctxpack.conf (secret-file a warning): builds",
              rc == 0 and t.builds() == 3 and "warning:" in out, (rc, out, err))
    rc, out, err = t.run(st + ["--lint=strict", "--force"])
    tap.check("--lint=strict: a warning exits 3, nothing built",
              rc == 3 and t.builds() == 3 and "--lint=strict" in err, (rc, out, err))
    rc, out, err = t.run(st + ["--lint=loud"])
    tap.check("--lint=loud: usage error", rc == 2 and "--lint" in err, (rc, err))


def main():
    test_lint()
    test_cycle()
    test_state_and_usage()
    test_default_command()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
