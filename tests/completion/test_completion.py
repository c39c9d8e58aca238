#!/usr/bin/env python3
"""The man page, --help and the bash, zsh and fish completions against the
option tables they are generated from (`ctxpack --generate=options` prints
the tables).  Every option of every table must show up everywhere; the
completions are run for real in each shell.  TAP output; a shell or tool
that is missing is a visible skip.

usage: test_completion.py CTXPACK CTXPACK.1 BASH_COMPLETION ZSH_COMPLETION
                          FISH_COMPLETION ZSH_COMPLETE_DRIVER"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import tap  # noqa: E402
check = tap.check

CTXPACK, MAN, BASH, ZSH, FISH, ZSH_DRIVER = (os.path.abspath(a) for a in sys.argv[1:7])
ENV = dict(os.environ, LC_ALL="C.UTF-8", HOME=tap.mkdtemp("ctxpack-home-"))
ENV.pop("NO_COLOR", None)


def run(argv, **kw):
    kw.setdefault("env", ENV)
    p = subprocess.run(argv, capture_output=True, timeout=60, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Opt:
    def __init__(self, short, lng, has_arg, metavar, choices, path):
        self.short, self.lng, self.has_arg, self.metavar = short, lng, has_arg, metavar
        self.choices = choices.split("|") if choices else []
        self.path = path


def tables():
    """{command name or "": [Opt]}, {command: operand kind}, version."""
    rc, out, err = run([CTXPACK, "--generate=options"])
    check("--generate=options exits 0", rc == 0, err)
    opts, operands, version = {"": []}, {}, None
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "version":
            version = f[1]
        elif f[0] == "cmd":
            opts[f[1]] = []
            operands[f[1]] = f[2]
        elif f[0] == "opt":
            opts[f[1]].append(Opt(*f[2:8]))
    return opts, operands, version


def test_generate(opts):
    rc, out, err = run([CTXPACK, "--generate=nonsense"])
    check("--generate=nonsense: usage error, exit 2", rc == 2 and "--generate" in err, err)
    rc, out, err = run([CTXPACK, "--help"])
    check("--generate stays out of --help", rc == 0 and "generate" not in out, out)
    check("the tables list the nine commands",
          sorted(opts) == sorted(["", "pack", "ls", "stats", "check-ignore", "lint", "suggest",
                                  "digest", "manifest", "diff", "build"]), sorted(opts))
    for cmd, lst in opts.items():
        for o in lst:
            if o.metavar in ("FILE", "DOCKERFILE", "DIR") and o.path == "none":
                check("%s --%s: a path argument marked for completion" % (cmd, o.lng), False, o.metavar)


def help_synopsis(o):
    left = ("-%s, --%s" % (o.short, o.lng)) if o.short else "    --%s" % o.lng
    if o.has_arg == "optional":
        left += "[=%s]" % o.metavar
    elif o.has_arg == "required":
        left += "=%s" % o.metavar
    return "  " + left + " "


def test_help(opts):
    for cmd, lst in opts.items():
        rc, out, err = run([CTXPACK] + ([cmd] if cmd else []) + ["--help"])
        lines = out.splitlines()
        missing = [o.lng for o in lst if not any(l.startswith(help_synopsis(o)) for l in lines)]
        check("ctxpack %s--help lists every option of its table" % (cmd + " " if cmd else ""),
              rc == 0 and not missing, (missing, out))


def test_choices(opts):
    """The values in the tables are the values the parser takes."""
    for cmd, lst in opts.items():
        pre = [CTXPACK] + ([cmd] if cmd else [])
        for o in lst:
            if not o.choices:
                continue
            bad = []
            for v in o.choices:
                rc, out, err = run(pre + ["--%s=%s" % (o.lng, v), "--help"])
                if rc != 0:
                    bad.append((v, rc, err))
            rc, out, err = run(pre + ["--%s=no-such-value" % o.lng, "--help"])
            check("%s --%s: every listed value accepted, another refused (exit 2)" % (cmd or "ctxpack", o.lng),
                  not bad and rc == 2 and "--" + o.lng in err, (bad, rc, err))


# ---- man page ----

MACROS = {".TH", ".SH", ".SS", ".TP", ".PP", ".B", ".BR", ".I", ".nf", ".fi", ".RS", ".RE", ".br",
          ".ad", ".nh", '.\\"'}


def section(text, start, stop_re):
    i = text.find(start)
    if i < 0:
        return ""
    m = re.compile(stop_re, re.M).search(text, i + len(start))
    return text[i:m.start() if m else len(text)]


def test_man(opts, version):
    with open(MAN, encoding="ascii", errors="replace") as f:
        src = f.read()
    requests = sorted({l.split()[0] for l in src.splitlines() if l[:1] in (".", "'")} - MACROS)
    check("man source: every line starting with '.' or \"'\" is a macro we mean (text escaped)",
          not requests, requests)
    unescaped = [l for l in src.splitlines()
                 if not l.startswith('.\\"') and re.search(r"(?<!\\)-", l)]
    check("man source: every hyphen escaped as \\-", not unescaped, unescaped[:5])
    check("man source: ASCII only", all(ord(c) < 128 for c in src))

    if not shutil.which("groff"):
        tap.skip("groff -ww renders the page without warnings", "groff not installed")
    else:
        rc, out, err = run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN])
        check("groff -man -ww renders the page without warnings", rc == 0 and not err.strip(), err)
    if not shutil.which("man"):
        tap.skip("man -l renders the page", "man (man-db) not installed")
        return
    env = dict(ENV, MANWIDTH="100", MAN_KEEP_FORMATTING="")
    rc, page, err = run(["man", "-l", "-P", "cat", MAN], env=env)
    check("man -l renders the page without warnings", rc == 0 and not err.strip() and "NAME" in page,
          (rc, err))
    for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "GLOBAL OPTIONS", "EXIT STATUS",
              "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"):
        check("man: section %s" % s, re.search(r"^%s$" % s, page, re.M), page[:3000])
    exits = section(page, "\nEXIT STATUS", r"^[A-Z]")
    check("man: EXIT STATUS explains 0, 1, 2, 3 and 4",
          all(re.search(r"^\s+%d\s" % n, exits, re.M) for n in range(5)), exits)
    env_s = section(page, "\nENVIRONMENT", r"^[A-Z]")
    check("man: ENVIRONMENT names what the code reads",
          all(v in env_s for v in ("NO_COLOR", "SOURCE_DATE_EPOCH", "XDG_CACHE_HOME", "HOME", "TMPDIR")),
          env_s)
    examples = section(page, "\nEXAMPLES", r"^[A-Z]")
    for ex in ("ctxpack pack . | docker build -f Dockerfile -", "--builder=classic", "--max-size",
               "ctxpack check-ignore -v", "ctxpack digest ."):
        check("man: EXAMPLES show %s" % ex, ex in examples, examples)
    check("man: SEE ALSO docker-build(1)", "docker-build(1)" in page)
    rc, vout, err = run([CTXPACK, "--version"])
    first = vout.splitlines()[0] if vout else ""
    footer = [l for l in page.rstrip().splitlines()][-1:]
    check("man: the page's version is `ctxpack --version`'s",
          first == "ctxpack " + version and footer and footer[0].strip().startswith(first + " "),
          (first, footer))
    check("man: --version says it prints the library versions",
          "libarchive" in section(page, "\nGLOBAL OPTIONS", r"^[A-Z]"))
    for cmd, lst in opts.items():
        if cmd:
            text = section(page, "\n   ctxpack %s\n" % cmd, r"^(   ctxpack \S+$|[A-Z])")
        else:
            text = section(page, "\nGLOBAL OPTIONS", r"^[A-Z]")
        missing = []
        for o in lst:
            word = "-%s, --%s" % (o.short, o.lng) if o.short else "--" + o.lng
            if word not in text or any(c not in text for c in o.choices):
                missing.append(o.lng)
        check("man: %s has every option of its table (and their values)" % (cmd or "GLOBAL OPTIONS"),
              text and not missing, (missing, text[:2000]))


# ---- bash ----

BASH_DRIVER = r'''
source "$1"; shift
t() {
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _ctxpack
    local IFS=$'\t'; printf '%s\n' "${COMPREPLY[*]}"
}
while IFS= read -r line; do
    IFS=$'\t' read -r -a w <<<"$line"
    [[ $line == *$'\t' ]] && w+=("")
    t "${w[@]}"
done
'''


def bash_complete(cases, cwd, preload=""):
    """cases: lists of words (the last is being completed); returns a
    sorted list of candidates per case."""
    inp = "".join("\t".join(c) + "\n" for c in cases)
    script = preload + BASH_DRIVER
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", BASH], input=inp.encode(),
                       capture_output=True, cwd=cwd, env=ENV, timeout=60)
    lines = p.stdout.decode().split("\n")
    return [sorted(filter(None, l.split("\t"))) for l in lines[:len(cases)]], p.stderr.decode()


def long_words(o):
    if o.has_arg == "required":
        return ["--%s=" % o.lng]
    if o.has_arg == "optional":
        return ["--" + o.lng, "--%s=" % o.lng]
    return ["--" + o.lng]


def test_bash(opts, operands, ctx):
    if not shutil.which("bash"):
        tap.skip("bash completion", "bash not installed")
        return
    fixed = [
        (["ctxpack", "pa"], ["pack"], "ctxpack pa<TAB> -> pack"),
        (["ctxpack", "pack", "--builde"], ["--builder="],
         "ctxpack pack --builde<TAB> -> --builder="),
        (["ctxpack", "pack", "--builder="], ["--builder=buildkit", "--builder=classic"],
         "ctxpack pack --builder=<TAB> -> buildkit classic"),
        (["ctxpack", "pack", "--builder", "=", ""], ["buildkit", "classic"],
         "--builder=<TAB> split at '=' by COMP_WORDBREAKS -> buildkit classic"),
        (["ctxpack", "pack", "--builder", "cl"], ["classic"], "--builder cl<TAB> -> classic"),
        (["ctxpack", "stats", "--co"], ["--color", "--color="], "ctxpack stats --co<TAB> -> --color --color="),
        (["ctxpack", "stats", "--color="], ["--color=always", "--color=auto", "--color=never"],
         "ctxpack stats --color=<TAB> -> auto always never"),
        (["ctxpack", "pack", "-f", "Dock"], ["Dockerfile"], "ctxpack pack -f Dock<TAB> -> Dockerfile (file)"),
        (["ctxpack", "pack", "--file=Dock"], ["--file=Dockerfile"], "--file=Dock<TAB> -> --file=Dockerfile"),
        (["ctxpack", "pack", "-f", "sub"], ["subdir"], "-f sub<TAB> offers the directory too"),
        (["ctxpack", "pack", "s"], ["subdir"], "pack's operand: directories only"),
        (["ctxpack", "digest", "s"], ["some-file", "subdir"], "digest's operand: files and directories"),
        (["ctxpack", "-C", "s"], ["subdir"], "-C s<TAB> -> directories"),
        (["ctxpack", "-C", "subdir", "st"], ["stats"], "after -C DIR the command completes"),
        (["ctxpack", "--color", "=", "never", "li"], ["lint"], "after --color = never the command completes"),
        (["ctxpack", "help", "di"], ["diff", "digest"], "ctxpack help di<TAB> -> diff digest"),
        (["ctxpack", "pack", "--level", ""], [], "an option's number: no candidates"),
        (["ctxpack", "--ver"], ["--version"], "global options: --ver<TAB> -> --version"),
        (["ctxpack", "--directory", "=", "subdir", "pack", "--builde"], ["--builder="],
         "after --directory=DIR (split at '=') the command's options complete"),
        (["ctxpack", "pack", "--file=my"], ["--file=my\\ file"],
         "--file=my<TAB>: a name with a blank is quoted in the one word"),
        (["ctxpack", "pack", "--file=[x"], ["--file=\\[x\\]1"],
         "--file=[x<TAB>: the word is not expanded as a glob (x1 not offered)"),
    ]
    cases = [c for c, _, _ in fixed]
    gen = []
    for cmd, lst in opts.items():
        want = sorted(w for o in lst for w in long_words(o))
        cases.append(["ctxpack"] + ([cmd] if cmd else []) + ["--"])
        gen.append(("bash: %s --<TAB> offers every long option of its table" % (cmd or "ctxpack"), want))
        for o in lst:
            if o.choices:
                cases.append(["ctxpack"] + ([cmd] if cmd else []) + ["--%s=" % o.lng])
                gen.append(("bash: %s --%s=<TAB> offers its values" % (cmd or "ctxpack", o.lng),
                            sorted("--%s=%s" % (o.lng, v) for v in o.choices)))
    cmds = sorted(c for c in opts if c)
    cases.append(["ctxpack", ""])
    gen.append(("bash: ctxpack <TAB> offers every command", sorted(cmds + ["help"])))
    got, err = bash_complete(cases, ctx)
    for (c, want, name), g in zip(fixed, got):
        check("bash: " + name, g == sorted(want), (c, g, err))
    for (name, want), g in zip(gen, got[len(fixed):]):
        check(name, g == want, (g, want, err))
    # With bash-completion loaded, paths go through its _filedir.
    bc = "/usr/share/bash-completion/bash_completion"
    if os.path.exists(bc):
        got, err = bash_complete([["ctxpack", "pack", "-f", "Dock"], ["ctxpack", "pack", "s"]], ctx,
                                 preload="source %s\n" % bc)
        check("bash with bash-completion loaded: -f Dock -> Dockerfile, pack s -> subdir",
              got == [["Dockerfile"], ["subdir"]], (got, err))
    else:
        tap.skip("bash with bash-completion loaded", "bash-completion not installed")


# ---- zsh ----

def test_zsh(ctx):
    if not shutil.which("zsh"):
        for n in ("parses", "defines _ctxpack", "completes for real"):
            tap.skip("zsh: " + n, "zsh not installed")
        return
    rc, out, err = run(["zsh", "-f", "-n", ZSH])
    check("zsh: the completion parses (zsh -n)", rc == 0, err)
    rc, out, err = run(["zsh", "-f", "-c", "compdef() { print -r -- compdef $@; }; source %s; whence -w _ctxpack" % ZSH])
    check("zsh: sourced, it defines _ctxpack and calls compdef _ctxpack ctxpack",
          rc == 0 and "compdef _ctxpack ctxpack" in out and "_ctxpack: function" in out, (out, err))
    cases = [
        ("ctxpack pa", "ctxpack pack "),
        ("ctxpack pack --builde", "ctxpack pack --builder="),
        ("ctxpack pack --builder=cl", "ctxpack pack --builder=classic "),
        ("ctxpack pack --compress zs", "ctxpack pack --compress zstd "),
        ("ctxpack stats --color=al", "ctxpack stats --color=always "),
        ("ctxpack pack -f Dockerf", "ctxpack pack -f Dockerfile "),
        ("ctxpack pack su", "ctxpack pack subdir/"),
        ("ctxpack digest some", "ctxpack digest some-file "),
        ("ctxpack -C su", "ctxpack -C subdir/"),
        ("ctxpack -C subdir sta", "ctxpack -C subdir stats "),
        ("ctxpack check-ignore --st", "ctxpack check-ignore --stdin "),
        ("ctxpack help dig", "ctxpack help digest "),
    ]
    dirname = os.path.dirname(ZSH)
    p = subprocess.run(["zsh", "-f", ZSH_DRIVER, dirname, ctx] + [c for c, _ in cases],
                       capture_output=True, env=ENV, timeout=120)
    if p.returncode == 77:
        tap.skip("zsh: real completions through zsh/zpty", "the zsh/zpty module is not available")
        return
    got = p.stdout.decode().split("\n")
    got = [got[i] if i < len(got) else None for i in range(len(cases))]
    # A line that came back empty or wrong is typed once more in a fresh
    # zsh: on a loaded machine the terminal driver has lost keys (an empty
    # line for 'digest some<TAB>' under ASan); a wrong completion is wrong
    # both times.
    again = [i for i, (c, want) in enumerate(cases) if got[i] != want]
    if again:
        q = subprocess.run(["zsh", "-f", ZSH_DRIVER, dirname, ctx] + [cases[i][0] for i in again],
                           capture_output=True, env=ENV, timeout=120)
        second = q.stdout.decode().split("\n")
        for k, i in enumerate(again):
            if k < len(second) and second[k] == cases[i][1]:
                got[i] = second[k]
    for i, (c, want) in enumerate(cases):
        check("zsh (zpty): %s<TAB> -> %r" % (c, want), got[i] == want, (got[i], p.stderr.decode()))


# ---- fish ----

def fish_complete(line, cwd):
    rc, out, err = run(["fish", "--no-config", "-c", "source $argv[1]; complete -C $argv[2]", FISH, line],
                       cwd=cwd)
    return sorted(l.split("\t")[0] for l in out.splitlines()), err


def test_fish(opts, ctx):
    if not shutil.which("fish"):
        tap.skip("fish completion", "fish not installed")
        return
    rc, out, err = run(["fish", "--no-config", "--no-execute", FISH])
    check("fish: the completion parses (fish --no-execute)", rc == 0, err)
    cmds = sorted(c for c in opts if c)
    got, err = fish_complete("ctxpack ", ctx)
    check("fish: ctxpack <TAB> offers every command", [g for g in got if g in cmds] == cmds, (got, err))
    got, err = fish_complete("ctxpack pa", ctx)
    check("fish: ctxpack pa<TAB> -> pack", got == ["pack"], (got, err))
    for cmd, lst in opts.items():
        if not cmd:
            continue
        got, err = fish_complete("ctxpack %s --" % cmd, ctx)
        # fish also offers --opt= for an optional argument with values.
        optional = {"--%s=" % o.lng for o in lst if o.has_arg == "optional"}
        got = [g for g in got if g not in optional]
        want = sorted("--" + o.lng for o in lst)
        check("fish: %s --<TAB> offers every long option of its table" % cmd, got == want, (got, want, err))
        for o in lst:
            if o.choices:
                got, err = fish_complete("ctxpack %s --%s=" % (cmd, o.lng), ctx)
                want = sorted("--%s=%s" % (o.lng, v) for v in o.choices)
                check("fish: %s --%s=<TAB> offers its values" % (cmd, o.lng), got == want, (got, want, err))
    for line, want, name in [
        ("ctxpack pack --builder ", ["buildkit", "classic"], "--builder <TAB> -> buildkit classic"),
        ("ctxpack pack -f Dock", ["Dockerfile"], "-f Dock<TAB> -> Dockerfile"),
        ("ctxpack pack s", ["subdir/"], "pack's operand: directories"),
        ("ctxpack digest s", ["some-file", "subdir/"], "digest's operand: files and directories"),
        ("ctxpack -C s", ["subdir/"], "-C s<TAB> -> directories"),
        ("ctxpack -C subdir st", ["stats"], "after -C DIR the command completes"),
        ("ctxpack --color=", ["--color=always", "--color=auto", "--color=never"], "global --color=<TAB>"),
    ]:
        got, err = fish_complete(line, ctx)
        check("fish: " + name, got == want, (got, err))


def main():
    opts, operands, version = tables()
    ctx = tap.tree({"Dockerfile": b"FROM scratch\n", "some-file": b"x", "subdir/a": b"",
                    "my file": b"", "[x]1": b"", "x1": b""},
                   prefix="ctxpack-compl-")
    test_generate(opts)
    test_help(opts)
    test_choices(opts)
    test_man(opts, version)
    test_bash(opts, operands, ctx)
    test_zsh(ctx)
    test_fish(opts, ctx)
    sys.exit(tap.finish())


main()
