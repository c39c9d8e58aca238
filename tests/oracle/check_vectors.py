#!/usr/bin/env python3
"""check_vectors.py: run recorded Docker vectors against ctxpack (TAP).

    check_vectors.py --ctxpack BIN --cases FILE --builder classic|buildkit
                     [--live] [--only REGEXP] [-j N]

For each case: build its tree in a temp dir, feed every path of the tree
(relative, NUL-separated, depth-first, bytewise per directory, a directory
before its contents) to

    ctxpack check-ignore --builder=B --json -z --stdin -C TREEDIR [-f F]

(run with cwd = TREEDIR, -f only when the case's args have -f) and compare
each path's "sent" with the recording:

  * "members" cases: sent must equal "the path (directories with a trailing
    '/') is a member of the recorded tar".  With --builder buildkit a
    directory also counts as sent when any path below it is sent, on both
    sides (BuildKit sends parents of re-included entries).
    A case where docker exited 0 but logged an error ("docker_log", e.g. a
    bad pattern first evaluated inside its walk, which makes docker drop
    the rest of the context) also passes when ctxpack exits 2.
  * "error" cases: ctxpack must exit 2.  Errors that docker hit while
    reading files during its walk (permissions) are skipped: check-ignore
    does not read files.

Skipped (`ok N - name # SKIP reason`): cases marked "random", trees that
cannot be built as this user, and recordings of a tar that docker broke off.
With --live each case is also re-run through the docker CLI (classic
builder, fakeengine) and fails if docker's result differs from the
recording; without the docker CLI those cases are reported as skipped.

Output: TAP (`1..N`, `ok`/`not ok` lines, `# ` detail lines) and a final
`# N passed, N failed, N skipped`.  Exit 0 if nothing failed, else 1.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeengine  # noqa: E402
import record  # noqa: E402

MAX_DETAIL = 25
# docker errors that come from reading the files, not from the rules
IO_ERRORS = re.compile(r"no permission to read from|can't stat '")


def dockerfile_arg(args):
    """The -f/--file value in docker build args, or None."""
    for i, a in enumerate(args):
        if a in ("-f", "--file") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--file="):
            return a[len("--file="):]
        if a.startswith("-f") and len(a) > 2:
            return a[2:]
    return None


class Outcome:
    def __init__(self, status, detail=(), reason=""):
        self.status = status        # "pass", "fail", "skip"
        self.detail = list(detail)  # lines for the "# " block
        self.reason = reason        # skip reason


def run_ctxpack(binary, builder, ctx, paths, dfile, user):
    argv = [binary, "check-ignore", "--builder=" + builder, "--json", "-z",
            "--stdin", "-C", ctx]
    if dfile is not None:
        argv += ["-f", dfile]
    if user is not None and os.geteuid() == 0:
        argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                "--clear-groups", "--"] + argv
    data = b"".join(p + b"\0" for p, _ in paths)
    try:
        p = subprocess.run(argv, input=data, cwd=ctx, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out after 60 s"
    return p.returncode, p.stdout, p.stderr


def below_sent(sent):
    """Directories count as sent when anything below them is sent."""
    out = set(sent)
    for p in sent:
        parts = p.rstrip(b"/").split(b"/")
        for i in range(1, len(parts)):
            out.add(b"/".join(parts[:i]) + b"/")
    return out


def fmt_rule(r):
    if not r:
        return "no rule"
    return "%s:%s %s" % (r.get("source"), r.get("line"),
                         json.dumps(r.get("pattern"), ensure_ascii=True))


def show(p):
    return json.dumps(record.s(p), ensure_ascii=True)


def compare_members(case, builder, paths, rc, out, err):
    detail = []
    if rc == 2 or rc is None:
        msg = err.decode("utf-8", "replace").strip().splitlines()
        return Outcome("fail", ["ctxpack failed (exit %s): %s"
                                % (rc, msg[0] if msg else "")])
    if rc not in (0, 1):
        return Outcome("fail", ["ctxpack exit status %s" % rc])
    try:
        doc = json.loads(out.decode("utf-8", "surrogateescape"))
        results = doc["results"]
    except (ValueError, KeyError, TypeError) as e:
        return Outcome("fail", ["cannot parse ctxpack JSON: %s" % e])
    got = {}
    for r in results:
        got[record.b(r["path"])] = r
    members = {record.b(m[0]) for m in case["expect"]["members"]}
    keyed = [(p + b"/" if isdir else p, p) for p, isdir in paths]
    # buildkit vectors: BuildKit ships the Dockerfile separately, ctxpack's
    # buildkit mode still packs it, so either answer is right for it (and
    # it does not make its parents count as sent).
    either = case.get("dockerfile_not_sent") or []
    either = {record.b(e) for e in (either if isinstance(either, list) else [either])}
    exp_sent = {k for k, p in keyed if k in members and p not in either}
    act_sent = {k for k, p in keyed
                if p in got and got[p].get("sent") and p not in either}
    if builder == "buildkit":
        exp_sent = below_sent(exp_sent) & {k for k, _ in keyed}
        act_sent = below_sent(act_sent) & {k for k, _ in keyed}
    for k, p in keyed:
        if p not in got:
            detail.append("%s: missing from ctxpack's results" % show(k))
            continue
        e, a = k in exp_sent, k in act_sent
        if e != a and p != either:
            r = got[p]
            detail.append("%s: expected %s, got %s (verdict %s, %s%s)" % (
                show(k), "sent" if e else "not sent",
                "sent" if a else "not sent", r.get("verdict"),
                fmt_rule(r.get("rule")),
                ", pruned" if r.get("pruned") else ""))
    all_sent = all(got[p].get("sent") for _, p in keyed if p in got)
    if not detail and rc != (1 if all_sent else 0):
        detail.append("exit status %d, but %s" % (
            rc, "every path is sent" if all_sent else "some path is not sent"))
    return Outcome("fail" if detail else "pass", detail)


def live_check(case, engine_pool):
    """Re-run docker on the case; return detail lines if it differs from
    the recording (random cases are compared with the names hidden)."""
    try:
        now = record.run_case(engine_pool.get(), case)
    except record.Unbuildable as e:
        return ["live: cannot build tree: %s" % e]
    exp = case["expect"]
    if case.get("random"):
        same = record.normalize_random(now) == record.normalize_random(exp)
    else:
        same = now == exp
    if same:
        return []
    return ["live docker differs from the recording:",
            "  recorded: " + json.dumps(exp, ensure_ascii=True)[:400],
            "  now:      " + json.dumps(now, ensure_ascii=True)[:400]]


def check_case(args, case, engine_pool):
    exp = case.get("expect")
    if exp is None:
        return Outcome("fail", ["case has no recorded expectation"])
    res = check_ctxpack(args, case, exp)
    if not args.live:
        return res
    if engine_pool is None:
        if res.status == "pass":
            return Outcome("skip", reason="docker CLI not installed")
        res.detail.append("SKIP docker CLI not installed")
        return res
    diff = live_check(case, engine_pool)
    if diff:
        res.status = "fail"
        res.detail += diff
    return res


def check_ctxpack(args, case, exp):
    if case.get("random"):
        return Outcome("skip", reason="random generated names (Dockerfile "
                       "outside the context)")
    if exp.get("tar_incomplete") and "members" in exp:
        return Outcome("skip", reason="docker's tar breaks off here "
                       "(ctxpack deliberately fails instead)")
    if "error" in exp and IO_ERRORS.search(exp["error"]):
        return Outcome("skip", reason="docker failed reading files, not on "
                       "the rules: %s" % exp["error"])
    # A case with "user" runs ctxpack as that uid when we are root; any
    # other non-root user meets the same permission errors.
    user = case.get("user")
    with record.scratch("ctxcheck.") as tmp:
        try:
            ctx = record.materialize(case, tmp)
        except (record.Unbuildable, PermissionError, OSError) as e:
            return Outcome("skip", reason="cannot build tree as uid %d: %s"
                           % (os.geteuid(), e))
        paths = record.walk_paths(ctx)
        rc, out, err = run_ctxpack(args.ctxpack, args.builder,
                                   os.fsdecode(ctx), paths,
                                   dockerfile_arg(case.get("args", [])),
                                   user)
        if "error" in exp:
            if rc == 2:
                res = Outcome("pass")
            else:
                res = Outcome("fail", ["expected an error (exit 2) like "
                                       "docker's: %s" % exp["error"],
                                       "ctxpack exited %s" % rc])
        elif (rc == 2 and b"does not reproduce" in err
              and any(k in (case.get("dockerignore") or "")
                      for k in ("\\p", "\\P", "\\Q"))):
            # A documented refusal: ctxpack does not reproduce Go's Unicode
            # classes or \Q...\E, and says so where Docker evaluates them.
            res = Outcome("pass", ["ctxpack refuses a Go regexp construct "
                                   "(documented)"])
        elif rc == 2 and any("Error matching" in m
                             for m in exp.get("docker_log", ())):
            # Docker logged an error, stopped its walk and still exited 0;
            # failing instead is the correct reaction.
            res = Outcome("pass", ["ctxpack failed where docker logged "
                                   "%r and exited 0" % exp["docker_log"][0]])
        else:
            res = compare_members(case, args.builder, paths, rc, out, err)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxpack", required=True, help="ctxpack binary")
    ap.add_argument("--cases", required=True, help="recorded JSONL file")
    ap.add_argument("--builder", choices=("classic", "buildkit"),
                    default="classic")
    ap.add_argument("--live", action="store_true",
                    help="also re-run docker and compare with the recording")
    ap.add_argument("--only", help="regexp on case names")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if args.live and args.builder != "classic":
        ap.error("--live re-runs the classic builder: use --builder classic")
    cases = record.load_cases(args.cases)
    if args.only:
        cases = [c for c in cases if re.search(args.only, c["name"])]
    print("1..%d" % len(cases))
    sys.stdout.flush()
    if not (os.path.isfile(args.ctxpack) and os.access(args.ctxpack,
                                                       os.X_OK)):
        print("Bail out! ctxpack binary not found: %s" % args.ctxpack)
        return 1
    args.ctxpack = os.path.abspath(args.ctxpack)
    pool = None
    if args.live and fakeengine.docker_cli() is not None:
        pool = record.EnginePool()
    counts = {"pass": 0, "fail": 0, "skip": 0}
    lock = threading.Lock()

    def one(c):
        try:
            return check_case(args, c, pool)
        except Exception as e:          # a driver problem: fail the case
            return Outcome("fail", ["driver error: %s: %s"
                                    % (type(e).__name__, e)])
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            for n, (c, res) in enumerate(zip(cases, ex.map(one, cases)), 1):
                with lock:
                    counts[res.status] += 1
                    if res.status == "skip":
                        print("ok %d - %s # SKIP %s" % (n, c["name"],
                                                       res.reason))
                    else:
                        print("%s %d - %s" % ("ok" if res.status == "pass"
                                              else "not ok", n, c["name"]))
                    if res.status == "fail":
                        print("# item %s, .dockerignore %s%s" % (
                            c.get("item"),
                            json.dumps(c.get("dockerignore"),
                                       ensure_ascii=True)[:200],
                            ", args %s" % c["args"] if c.get("args") else ""))
                    for line in res.detail[:MAX_DETAIL]:
                        print("#   " + line)
                    if len(res.detail) > MAX_DETAIL:
                        print("#   ... %d more" % (len(res.detail)
                                                   - MAX_DETAIL))
                    sys.stdout.flush()
    finally:
        if pool is not None:
            pool.close()
    print("# %d passed, %d failed, %d skipped"
          % (counts["pass"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
