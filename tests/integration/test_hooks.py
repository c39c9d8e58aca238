#!/usr/bin/env python3
"""The lint hooks: .pre-commit-hooks.yaml and contrib/git-hooks/pre-commit.

.pre-commit-hooks.yaml (the pre-commit framework's format): parsed (with
PyYAML when importable, else a small parser for this flat list of maps),
its fields checked, its `files` regex tried on paths that must and must not
trigger the hook, and each hook's `entry` run as the framework runs a
`language: system` hook with `pass_filenames: false` (shlex-split, no
shell, in the repository root) on a clean, a warnings-only and an
erroneous context.  When the `pre-commit` program itself is installed, a
real `pre-commit try-repo` run is added; otherwise that check is skipped
visibly.

contrib/git-hooks/pre-commit in a throwaway git repository (with $CTXPACK
pointing to a wrapper that logs each call to ctxpack):
- a commit adding a good .dockerignore succeeds, and lint ran;
- a commit touching only other files succeeds without running ctxpack
  (fast path; even with no ctxpack installed);
- a .dockerignore that lets a secret (.env) be sent: commit refused, the
  finding printed, HEAD unchanged;
- warnings only (a dead rule): commit allowed, the warning printed;
- a Dockerfile in a subdirectory (svc/Dockerfile.api): lint runs on svc
  with -f svc/Dockerfile.api, and a key file sent from svc refuses it;
- X.dockerignore next to X: lint runs with -f X;
- git config ctxpack.contexts: the configured contexts are linted;
- ctxpack missing while an ignore file is staged: refused with a message.

usage: test_hooks.py PATH_TO_CTXPACK"""
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HOOKS_YAML = os.path.join(ROOT, ".pre-commit-hooks.yaml")
GIT_HOOK = os.path.join(ROOT, "contrib", "git-hooks", "pre-commit")
FILES_RE = r"(^|/)(\.dockerignore|.*\.dockerignore|Dockerfile[^/]*)$"


# -- .pre-commit-hooks.yaml ---------------------------------------------------

def _scalar(v):
    v = v.strip()
    if v in ("true", "false"):
        return v == "true"
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        inner = v[1:-1]
        return inner.replace("''", "'") if v[0] == "'" else inner
    return v


def simple_yaml(text):
    """A list of flat maps (`- key: value` / `  key: value`), comments and
    blank lines ignored; enough for .pre-commit-hooks.yaml."""
    hooks = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("- "):
            hooks.append({})
            line = line[2:]
        elif line.startswith("  ") and hooks:
            line = line[2:]
        else:
            raise ValueError("unexpected line %r" % line)
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError("no key in %r" % line)
        hooks[-1][key.strip()] = _scalar(value)
    return hooks


def load_hooks():
    with open(HOOKS_YAML) as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        return simple_yaml(text), "simple parser (PyYAML not installed)"
    data = yaml.safe_load(text)
    # The fallback parser must read the file the same way.
    same = simple_yaml(text) == data
    return data, "PyYAML" + ("" if same else " (the simple parser disagrees!)")


def ctxpack_path_dir():
    d = tap.mkdtemp("ctxpack-hooks-bin-")
    os.symlink(CTXPACK, os.path.join(d, "ctxpack"))
    return d


def test_precommit_yaml(bindir):
    try:
        hooks, how = load_hooks()
    except Exception as e:   # noqa: BLE001 -- any parse failure is a failed check
        tap.check(".pre-commit-hooks.yaml parses", False, repr(e))
        return
    tap.check(".pre-commit-hooks.yaml parses as a list of hooks (%s)" % how,
              isinstance(hooks, list) and hooks and all(isinstance(h, dict) for h in hooks)
              and "disagrees" not in how, hooks)
    by_id = {h.get("id"): h for h in hooks if isinstance(h, dict)}
    main = by_id.get("ctxpack-lint", {})
    tap.check("ctxpack-lint: entry 'ctxpack lint', language system, pass_filenames false, "
              "a name", main.get("entry") == "ctxpack lint" and main.get("language") == "system"
              and main.get("pass_filenames") is False and bool(main.get("name")), main)
    known = {"id", "name", "entry", "language", "files", "exclude", "types", "types_or",
             "exclude_types", "always_run", "fail_fast", "verbose", "pass_filenames",
             "require_serial", "description", "language_version", "minimum_pre_commit_version",
             "args", "stages", "additional_dependencies", "alias", "log_file"}
    tap.check("every hook has id, name, entry, language and only known keys",
              all({"id", "name", "entry", "language"} <= set(h) and set(h) <= known
                  for h in hooks), [sorted(h) for h in hooks])
    tap.check("files is the ignore-file/Dockerfile regex on every hook",
              all(h.get("files") == FILES_RE for h in hooks), [h.get("files") for h in hooks])
    rx = re.compile(FILES_RE)
    yes = [".dockerignore", "svc/.dockerignore", "Dockerfile", "svc/Dockerfile.api",
           "Dockerfile.dockerignore", "deploy/api.Dockerfile.dockerignore", "a/b/c.dockerignore"]
    no = ["README.md", "src/app.py", "dockerignore.txt", "src/Makefile",
          "my.dockerignore.bak", "xDockerfile"]
    tap.check("the files regex (re.search, as pre-commit) picks ignore files and Dockerfiles "
              "and nothing else", all(rx.search(p) for p in yes)
              and not any(rx.search(p) for p in no),
              ([p for p in yes if not rx.search(p)], [p for p in no if rx.search(p)]))

    # Each entry as pre-commit runs a language: system hook without filenames.
    cases = {
        "clean": (b".git\n.env\n", 0),
        "warnings": (b".git\n.env\nnothing-matches\n", 1),
        "errors": (b".git\n", 3),
    }
    expect = {"ctxpack-lint": {"clean": 0, "warnings": "fail", "errors": "fail"},
              "ctxpack-lint-errors": {"clean": 0, "warnings": 0, "errors": "fail"}}
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               XDG_CACHE_HOME=tap.mkdtemp("ctxpack-hooks-cache-"))
    for hid, want in expect.items():
        h = by_id.get(hid)
        if h is None:
            tap.check("hook %s exists" % hid, False, sorted(by_id))
            continue
        res = {}
        for label, (ignore, _) in cases.items():
            repo = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /\n", "app.py": b"x = 1\n",
                             ".env": b"API_KEY=abc123\n"}, ignore, prefix="ctxpack-hooks-pc-")
            os.makedirs(os.path.join(repo, ".git"))     # what a checkout has
            argv = shlex.split(h["entry"]) + [str(a) for a in h.get("args", [])]
            p = subprocess.run(argv, cwd=repo, capture_output=True, env=env, timeout=60)
            res[label] = (p.returncode, p.stdout.decode(errors="replace")
                          + p.stderr.decode(errors="replace"))
        ok = all((res[k][0] == 0) if v == 0 else (res[k][0] != 0) for k, v in want.items())
        tap.check("%s entry, run as pre-commit runs it: clean passes, %s" % (
            hid, "warnings pass (printed), errors fail" if want["warnings"] == 0
            else "warnings and errors fail"),
            ok and "secret-file" in res["errors"][1] and "dead-rule" in res["warnings"][1],
            res)

    if shutil.which("pre-commit") is None:
        tap.skip("pre-commit try-repo runs the hooks", "the pre-commit tool is not installed; "
                 "the yaml was checked structurally and its entries run directly")
        return
    repo = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /\n", ".env": b"API_KEY=abc123\n"},
                    b".git\n", prefix="ctxpack-hooks-pc-")
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    p = subprocess.run(["pre-commit", "try-repo", ROOT, "ctxpack-lint", "--all-files"],
                       cwd=repo, capture_output=True, env=env, timeout=300)
    tap.check("pre-commit try-repo: ctxpack-lint fails on the secret",
              p.returncode != 0 and b"secret-file" in p.stdout + p.stderr,
              (p.returncode, p.stdout[-800:], p.stderr[-400:]))


# -- the git hook -------------------------------------------------------------

class Repo:
    def __init__(self):
        self.dir = tap.mkdtemp("ctxpack-hooks-git-")
        self.log = os.path.join(self.dir, ".git-ctxpack-calls")
        self.wrapper = os.path.join(tap.mkdtemp("ctxpack-hooks-wrap-"), "ctxpack-logged")
        with open(self.wrapper, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s"\nexec "%s" "$@"\n'
                    % (self.log, CTXPACK))
        os.chmod(self.wrapper, 0o755)
        self.cache = tap.mkdtemp("ctxpack-hooks-cache-")
        self.git("init", "-q")
        self.git("config", "user.name", "Hook Test")
        self.git("config", "user.email", "hook@example.invalid")
        self.git("config", "commit.gpgsign", "false")
        hook = os.path.join(self.dir, ".git", "hooks", "pre-commit")
        shutil.copyfile(GIT_HOOK, hook)
        os.chmod(hook, 0o755)

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("CTXPACK", "GIT_"))}
        e.update({"CTXPACK": self.wrapper, "XDG_CACHE_HOME": self.cache})
        e.update(extra or {})
        return e

    def git(self, *args, env=None):
        p = subprocess.run(["git"] + list(args), cwd=self.dir, capture_output=True,
                           env=env or self.env(), timeout=120)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def write(self, path, content):
        tap.write(self.dir, path, content)

    def commit(self, msg, *paths, env=None):
        self.git("add", "--", *paths, env=env)
        return self.git("commit", "-q", "-m", msg, env=env)

    def head(self):
        return self.git("rev-parse", "-q", "--verify", "HEAD")[1].strip()

    def calls(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []


def test_git_hook():
    r = Repo()
    r.write("Dockerfile", b"FROM scratch\nCOPY . /\n")
    r.write("app.py", b"print(1)\n")
    r.write(".gitignore", b".env\n.git-ctxpack-calls\n")
    r.write(".env", b"API_KEY=abc123\n")            # on disk, never committed
    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\n")
    rc, out, err = r.commit("initial", "Dockerfile", "app.py", ".gitignore", ".dockerignore")
    tap.check("git hook: a good .dockerignore commits; lint ran on the context",
              rc == 0 and r.head() and r.calls() == ["lint ."], (rc, err, r.calls()))

    r.write("app.py", b"print(2)\n")
    rc, out, err = r.commit("app change", "app.py")
    tap.check("git hook: an unrelated change commits without running ctxpack (fast path)",
              rc == 0 and len(r.calls()) == 1, (rc, err, r.calls()))
    r.write("app.py", b"print(3)\n")
    rc, out, err = r.commit("app change 2", "app.py",
                            env=r.env({"CTXPACK": "/nonexistent/ctxpack"}))
    tap.check("git hook: the fast path needs no ctxpack at all", rc == 0, (rc, err))

    head = r.head()
    r.write(".dockerignore", b".git\n.git-ctxpack-calls\n")
    rc, out, err = r.commit("send the secret", ".dockerignore")
    tap.check("git hook: a .dockerignore that sends .env: commit refused, HEAD unchanged",
              rc != 0 and r.head() == head, (rc, err))
    tap.check("git hook: the refusal prints the finding and says why",
              ".env: error:" in err and "[secret-file]" in err and "commit refused" in err, err)

    rc, out, err = r.git("commit", "-q", "--no-verify", "-m", "forced")
    tap.check("git hook: --no-verify bypasses it", rc == 0 and r.head() != head, (rc, err))
    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\nnothing-matches\n")
    rc, out, err = r.commit("dead rule", ".dockerignore")
    tap.check("git hook: warnings only (a dead rule): commit allowed, warning printed",
              rc == 0 and "[dead-rule]" in err and "commit allowed" in err, (rc, err))

    # Info only (a defensive rule that matches nothing here): quiet.
    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\n.idea\n")
    rc, out, err = r.commit("defensive rule", ".dockerignore")
    tap.check("git hook: info findings only (a defensive '.idea'): commit allowed, nothing printed",
              rc == 0 and "defensive-rule" not in err and "pre-commit:" not in err, (rc, err))
    # The context's .ctxpack.conf sets what blocks.
    head = r.head()
    r.write(".ctxpack.conf", b"severity dead-rule error\n")
    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\n.idea\nnothing-matches\n")
    rc, out, err = r.commit("dead rule as error", ".dockerignore")
    tap.check("git hook: .ctxpack.conf 'severity dead-rule error': the dead rule refuses the commit",
              rc != 0 and r.head() == head and "error: rule 'nothing-matches'" in err, (rc, err))
    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\n.idea\n"
            b"# ctxpack:ignore dead-rule\nnothing-matches\n")
    rc, out, err = r.commit("dead rule suppressed", ".dockerignore")
    tap.check("git hook: '# ctxpack:ignore dead-rule' above the rule: commit allowed",
              rc == 0 and r.head() != head, (rc, err))
    os.unlink(os.path.join(r.dir, ".ctxpack.conf"))

    n = len(r.calls())
    r.write("svc/Dockerfile.api", b"FROM scratch\nCOPY . /\n")
    r.write("svc/main.go", b"package main\n")
    r.write("svc/.dockerignore", b"*.md\n")
    r.write("svc/README.md", b"docs\n")
    rc, out, err = r.commit("svc", "svc")
    tap.check("git hook: svc/Dockerfile.api staged: lint svc -f svc/Dockerfile.api "
              "(svc/.dockerignore has no svc/Dockerfile: noted, not linted alone)",
              rc == 0 and r.calls()[n:] == ["lint -f svc/Dockerfile.api svc"]
              and "svc has no Dockerfile" in err, (rc, err, r.calls()[n:]))
    n = len(r.calls())
    head = r.head()
    r.write("svc/server.key", b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    r.write("svc/Dockerfile.api", b"FROM scratch\nCOPY . /app\n")
    rc, out, err = r.commit("svc key", "svc/Dockerfile.api")
    tap.check("git hook: a key file sent from svc refuses the Dockerfile change",
              rc != 0 and r.head() == head and "lint -f svc/Dockerfile.api svc:" in err
              and "server.key: error:" in err and "commit refused" in err, (rc, err))
    r.write("svc/Dockerfile.api.dockerignore", b"*.key\n*.md\n")
    rc, out, err = r.commit("svc ignore", "svc/Dockerfile.api", "svc/Dockerfile.api.dockerignore")
    tap.check("git hook: svc/Dockerfile.api.dockerignore (BuildKit's per-Dockerfile file) "
              "excludes it: commit allowed", rc == 0 and r.head() != head, (rc, err))
    tap.check("git hook: Dockerfile.api.dockerignore is linted with -f svc/Dockerfile.api, "
              "once", r.calls()[-1] == "lint -f svc/Dockerfile.api svc"
              and r.calls()[n:].count("lint -f svc/Dockerfile.api svc") == 2, r.calls()[n:])

    n = len(r.calls())
    r.git("config", "ctxpack.contexts", ". svc:svc/Dockerfile.api")
    r.git("config", "ctxpack.builder", "classic")
    r.write("svc/.dockerignore", b"*.md\n*.key\n")
    rc, out, err = r.commit("contexts", "svc/.dockerignore")
    # The root context sends svc/ too, key included: refused through ".".
    tap.check("git hook: git config ctxpack.contexts/.builder: each configured context "
              "linted (the root one sends svc/server.key: refused)",
              rc != 0 and "svc/server.key: error:" in err and r.calls()[n:] == ["lint --builder=classic .",
                                            "lint --builder=classic -f svc/Dockerfile.api svc"],
              (rc, err, r.calls()[n:]))
    r.git("config", "--unset", "ctxpack.contexts")
    r.git("config", "--unset", "ctxpack.builder")

    # A service removed whole (its Dockerfile and ignore files deleted):
    # nothing left to lint there, the commit goes through.
    r.write("tool/Dockerfile", b"FROM scratch\n")
    r.write("tool/.dockerignore", b"*.md\n")
    rc, out, err = r.commit("tool", "tool")
    n = len(r.calls())
    r.git("rm", "-q", "-r", "tool")
    rc, out, err = r.git("commit", "-q", "-m", "remove tool")
    tap.check("git hook: a deleted Dockerfile and .dockerignore: commit allowed, nothing linted",
              rc == 0 and r.calls()[n:] == [], (rc, err, r.calls()[n:]))

    r.write(".dockerignore", b".git\n.env\n.git-ctxpack-calls\n")
    rc, out, err = r.commit("no ctxpack", ".dockerignore",
                            env=r.env({"CTXPACK": "/nonexistent/ctxpack"}))
    tap.check("git hook: an ignore file staged but ctxpack missing: refused with a message",
              rc != 0 and "ctxpack not found" in err, (rc, err))


def main():
    test_precommit_yaml(ctxpack_path_dir())
    if shutil.which("git") is None:
        tap.skip("git hook tests", "git not installed")
    else:
        test_git_hook()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
