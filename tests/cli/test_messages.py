#!/usr/bin/env python3
"""What messages and reports say about the rules: every command, both
builders.

- An ignore file that lies outside the context (a .dockerignore symlink
  the classic builder follows; a <Dockerfile>.dockerignore beside a -f
  outside the context) has its lines shown nowhere: not in errors (eager,
  lazy, the walk's), not in lint's findings, not in stats' per-rule tables
  (text, JSON, HTML: "<line N>"), not in check-ignore -v or --json.  Lint
  warns once (ignore-outside).  One inside the context is quoted.
- Bytes of a rule or a path in a message are escaped by one function:
  control bytes (an ANSI colour sequence) and NUL show as \\xHH, and the
  message goes on after a NUL.

usage: test_messages.py PATH_TO_CTXPACK"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
check = tap.check

CTXPACK = os.path.abspath(sys.argv[1])
SECRET = b"hunter2"
BUILDERS = ("classic", "buildkit")


def run(args, cwd=None, preexec_fn=None):
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "NO_COLOR")}
    p = subprocess.run([CTXPACK] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60, preexec_fn=preexec_fn)
    return p.returncode, p.stdout, p.stderr


def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def commands(d, builder, work, df=None):
    """(name, argv, extra output file or None) for every command that reads
    the rules of context d."""
    b = ["--builder=" + builder] + (["-f", df] if df else [])
    html = os.path.join(work, "report.html")
    tar = os.path.join(work, "ctx.tar")
    return [
        ("pack -o", ["pack"] + b + ["-o", tar, d], tar),
        ("pack to stdout", ["pack"] + b + [d], None),
        ("pack --stats", ["pack"] + b + ["--stats", "-o", tar, d], None),
        ("ls", ["ls"] + b + [d], None),
        ("ls --all", ["ls"] + b + ["--all", d], None),
        ("ls --all --json", ["ls"] + b + ["--all", "--json", d], None),
        ("stats", ["stats"] + b + [d], None),
        ("stats --json", ["stats"] + b + ["--json", d], None),
        ("stats --html", ["stats"] + b + ["--html", html, d], html),
        ("lint", ["lint"] + b + [d], None),
        ("lint --json", ["lint"] + b + ["--json", d], None),
        ("check-ignore -v", ["check-ignore"] + b + ["-C", d, "-v", "-n", "a", "x.log",
                                                     "Dockerfile", ".dockerignore"], None),
        ("check-ignore --json", ["check-ignore"] + b + ["-C", d, "--json", "a", "x.log"],
         None),
        ("digest", ["digest"] + b + [d], None),
    ]


def outputs(d, builder, df=None):
    """{command: (exit status, stdout + stderr + its output file)}."""
    work = tap.mkdtemp("ctxpack-msg-out-")
    res = {}
    for name, argv, extra in commands(d, builder, work, df):
        if extra and os.path.exists(extra):
            os.unlink(extra)
        rc, out, err = run(argv)
        data = out + err
        if extra and os.path.exists(extra):
            with open(extra, "rb") as f:
                data += f.read()
        res[name] = (rc, data, err)
    return res


def outside_tree(ignore):
    """A context whose .dockerignore is a symlink to a file outside it."""
    top = tap.mkdtemp("ctxpack-msg-")
    tap.write(top, "outside/ignore", ignore)
    ctx = os.path.join(top, "ctx")
    for p in ("a", "x.log", "Dockerfile"):
        tap.write(ctx, p, b"FROM scratch\n" if p == "Dockerfile" else b"x")
    os.symlink("../outside/ignore", os.path.join(ctx, ".dockerignore"))
    return ctx


def no_secret(label, res):
    for name, (rc, data, err) in sorted(res.items()):
        check("%s: %s shows no rule text" % (label, name), SECRET not in data,
              (rc, data[-1500:]))


def test_outside_broken(builder):
    """An eager syntax error: Docker prints only 'syntax error in pattern'."""
    ctx = outside_tree(b"db_password=[" + SECRET + b"\n")
    res = outputs(ctx, builder)
    no_secret("outside, broken pattern, " + builder, res)
    if builder == "classic":
        rc, data, err = res["ls"]
        check("outside, broken pattern, classic: ls fails naming the line and why the rule is "
              "not shown",
              rc == 1 and b".dockerignore:1: unterminated character class" in err
              and b"the rule is not shown: .dockerignore points outside the context" in err,
              err)
        rc, data, err = res["lint"]
        check("outside, broken pattern, classic: lint warns once that the ignore file is "
              "outside", data.count(b"[ignore-outside]") == 1 and b"[bad-pattern]" in data, data)


def test_outside_lazy():
    """A pattern Go's regexp refuses: the walk fails where it evaluates it."""
    ctx = outside_tree(b"x.log\n" + SECRET + b"*\\e\n")
    res = outputs(ctx, "classic")
    no_secret("outside, lazy regexp error, classic", res)
    rc, data, err = res["pack -o"]
    check("outside, lazy regexp error: the message names the line and the reason",
          rc == 1 and b".dockerignore:2: pattern <line 2> is not a valid regular expression "
          b"(invalid escape sequence)" in err and b"the rule is not shown" in err, err)


def test_outside_valid():
    """Rules that work: the reports that list rules show <line N>.  The
    third decides 'a' and holds the secret."""
    ctx = outside_tree(b"db_password_" + SECRET + b"\n*.log\n[a" + SECRET + b"]\n")
    res = outputs(ctx, "classic")
    no_secret("outside, valid rules, classic", res)
    rc, data, err = res["stats"]
    check("outside: stats' per-rule table shows <line N>",
          rc == 0 and b".dockerignore:1:<line 1>" in data and b".dockerignore:2:<line 2>" in data,
          data)
    rc, data, err = res["stats --json"]
    check("outside: stats --json gives '<line N>' as the pattern",
          b'"pattern":"<line 2>"' in data, data)
    rc, data, err = res["stats --html"]
    check("outside: the HTML report's rules are '<line N>'", b'"\\u003cline 2\\u003e"' in data,
          data[-800:])
    rc, data, err = res["check-ignore -v"]
    check("outside: check-ignore -v names the rule by its line",
          b".dockerignore:2:<line 2>\tx.log" in data, data)
    rc, data, err = res["ls --all"]
    check("outside: ls --all names the deciding rule by its line",
          rc == 0 and b"excluded\t.dockerignore:3:<line 3>\ta\n" in data, data)
    rc, data, err = res["lint"]
    check("outside: lint's dead rule is named by its line",
          b"rule <line 1> matches nothing [dead-rule]" in data, data)
    check("outside: lint warns once", data.count(b"[ignore-outside]") == 1, data)


def test_outside_dockerfile():
    """BuildKit: <Dockerfile>.dockerignore beside a -f outside the context."""
    top = tap.mkdtemp("ctxpack-msg-")
    ctx = os.path.join(top, "ctx")
    for p in ("a", "x.log"):
        tap.write(ctx, p, b"x")
    tap.write(top, "df/Dockerfile", b"FROM scratch\n")
    tap.write(top, "df/Dockerfile.dockerignore", b"db_password=[" + SECRET + b"\n")
    res = outputs(ctx, "buildkit", os.path.join(top, "df/Dockerfile"))
    no_secret("buildkit, -f outside with its own ignore file", res)
    rc, data, err = res["ls"]
    check("buildkit, -f outside: ls fails naming the line",
          rc == 1 and b"Dockerfile.dockerignore:1: unterminated character class" in err, err)


def test_inside_symlink():
    """A symlink to a file inside the context is quoted as before."""
    top = tap.mkdtemp("ctxpack-msg-")
    tap.write(top, "sub/ign", b"db_password=[" + SECRET + b"\n")
    tap.write(top, "Dockerfile", b"FROM scratch\n")
    os.symlink("sub/ign", os.path.join(top, ".dockerignore"))
    rc, out, err = run(["ls", "--builder=classic", top])
    check("inside symlink: the rule is quoted",
          rc == 1 and b"unterminated character class in 'db_password=[hunter2'" in err, err)
    rc, out, err = run(["lint", "--builder=classic", top])
    check("inside symlink: lint quotes it and does not warn",
          b"'db_password=[hunter2'" in out and b"ignore-outside" not in out, out)


def test_control_bytes(builder):
    """ESC and NUL in a pattern error are escaped in every command."""
    for label, line, shown in (
            ("ESC", b"a\x1b[31mred[", b"a\\x1b[31mred["),
            ("NUL", b"b\x00c[", b"b\\x00c[")):
        d = tap.tree({"a": b"x", "x.log": b"x", "Dockerfile": b"FROM scratch\n"}, line + b"\n",
                     prefix="ctxpack-msg-")
        res = outputs(d, builder)
        for name, (rc, data, err) in sorted(res.items()):
            raw = line.replace(b"[", b"")
            want = shown.replace(b"\\", b"\\\\") if name == "lint --json" else shown
            check("%s in a pattern, %s: %s escapes it" % (label, builder, name),
                  rc != 0 and want in data and raw not in data and b"\x1b" not in data,
                  (rc, data[-1500:]))


def test_lazy_control_bytes():
    """The part of a pattern a regexp error quotes is escaped too."""
    d = tap.tree({"a": b"x", "Dockerfile": b"FROM scratch\n"}, b"x*[\x1b-\x01]\n",
                 prefix="ctxpack-msg-")
    for name, argv in (("ls", ["ls", "--builder=classic", d]),
                       ("check-ignore", ["check-ignore", "--builder=classic", "-C", d, "a"]),
                       ("lint", ["lint", "--builder=classic", d])):
        rc, out, err = run(argv)
        data = out + err
        check("lazy error with ESC: %s escapes the pattern and the quoted construct" % name,
              b"\x1b" not in data and b"\x01" not in data and b"'x*[\\x1b-\\x01]'" in data
              and b"(invalid character class range: '\\x1b-\\x01')" in data, data)


def test_check_ignore_verbose_escapes():
    """check-ignore -v: a rule's control bytes are escaped on a line; -z
    keeps the bytes."""
    d = tap.tree({"a\x01b": b"x", "Dockerfile": b"FROM scratch\n"}, b"a\x01b\n",
                 prefix="ctxpack-msg-")
    rc, out, err = run(["check-ignore", "--builder=classic", "-C", d, "-v", "a\x01b"])
    check("check-ignore -v: the rule's control byte is escaped",
          out.startswith(b".dockerignore:1:a\\x01b\t"), (rc, out, err))
    rc, out, err = run(["check-ignore", "--builder=classic", "-C", d, "-v", "-z", "a\x01b"])
    check("check-ignore -v -z: the rule's bytes as they are",
          out.startswith(b".dockerignore\x001\x00a\x01b\x00"), (rc, out, err))


def test_path_escaped():
    """A path from the context in the walk's messages: its ESC escaped."""
    name = "an unreadable file named with ESC: the walk's message escapes it"
    if os.geteuid() != 0:
        tap.skip(name, "needs root to switch to uid 65534")
        return
    d = tap.tree({"Dockerfile": b"FROM scratch\n", "a\x1b[31mred": b"x"}, prefix="ctxpack-msg-")
    os.chmod(os.path.join(d, "a\x1b[31mred"), 0o600)
    for builder in BUILDERS:
        rc, out, err = run(["ls", "--builder=" + builder, d], preexec_fn=as_nobody)
        check("%s (%s)" % (name, builder),
              rc == 1 and b"cannot open 'a\\x1b[31mred': Permission denied" in err
              and b"\x1b" not in err, (rc, err))


for b in BUILDERS:
    test_outside_broken(b)
test_outside_lazy()
test_outside_valid()
test_outside_dockerfile()
test_inside_symlink()
for b in BUILDERS:
    test_control_bytes(b)
test_lazy_control_bytes()
test_check_ignore_verbose_escapes()
test_path_escaped()
sys.exit(tap.finish())
