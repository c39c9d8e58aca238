#!/usr/bin/env python3
"""test_used.py CTXPACK: `ctxpack lint`'s missing-source findings against
what real builds did (tests/vectors/used.jsonl, recorded on dockerd 26.1
and buildx 0.13.1 by tests/engine/record_used.py).

Offline, per case and builder: lint's errors for missing sources are
exactly the line the recorded build failed on for a missing source, and
none when the build succeeded or failed for another reason (a RUN cannot
run on the engine; the classic builder refuses RUN --mount).  With CTXPACK_ENGINE_HOST set (a DOCKER_HOST for the engine:
the engine suite), every case is built again live and the build must do
what was recorded; otherwise those checks are visibly skipped."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'engine'))
import record_used  # noqa: E402

CTXPACK = sys.argv[1]
VECTORS = os.path.join(HERE, '..', 'vectors', 'used.jsonl')


def lint(d, builder, case):
    args = [CTXPACK, 'lint', '--json', '--builder=' + builder] + record_used.build_args(case)
    p = subprocess.run(args + [d], capture_output=True, timeout=60,
                       input=case['dockerfile'].encode() if case.get('stdin') else None)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {'findings': [], 'raw': (p.stdout + p.stderr).decode(errors='replace')}


def errors(doc):
    return sorted(f['line'] for f in doc['findings']
                  if f['severity'] == 'error' and f['code'] in ('missing-source', 'dockerfile-invalid'))


def replay(case):
    with tempfile.TemporaryDirectory(prefix='ctxpack-used-') as tmp:
        d = os.path.join(tmp, 'ctx')
        os.mkdir(d)
        record_used.write_tree(d, case)
        for b in ('buildkit', 'classic'):
            rec = case[b]
            rc, doc = lint(d, b, case)
            want = [rec['line']] if record_used.source_failure(rec) else []
            got = errors(doc)
            tap.check('%s: %s lint errors %s' % (case['name'], b, want), got == want and
                      (rc == 3 or not want),
                      'lint exit %d, error lines %s; recorded %s\n%s' %
                      (rc, got, json.dumps(rec), json.dumps(doc.get('findings') or doc)))


def live(case):
    host = os.environ.get('CTXPACK_ENGINE_HOST')
    if not host:
        tap.skip('%s: live build agrees with the recording' % case['name'], 'no engine')
        return
    os.environ['DOCKER_HOST'] = host
    # the buildx plugin lives in the engine's docker configuration
    # (scripts/engine.sh env --tests); without it BuildKit builds fail
    if os.environ.get('CTXPACK_DOCKER_CONFIG'):
        os.environ['DOCKER_CONFIG'] = os.environ['CTXPACK_DOCKER_CONFIG']
    os.environ.setdefault('BUILDX_NO_DEFAULT_ATTESTATIONS', '1')
    try:
        now = record_used.record({k: v for k, v in case.items() if k not in ('buildkit', 'classic')})
    except (OSError, subprocess.SubprocessError) as e:
        tap.check('%s: live build agrees with the recording' % case['name'], False, str(e))
        return
    for b in ('buildkit', 'classic'):
        keys = ('ok', 'line', 'files')
        a = {k: case[b].get(k) for k in keys}
        n = {k: now[b].get(k) for k in keys}
        tap.check('%s: live %s build agrees with the recording' % (case['name'], b), a == n,
                  'recorded %s, now %s' % (a, n))


def main():
    with open(VECTORS) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    tap.check('the corpus holds every recorded form', len(cases) >= 40, '%d cases' % len(cases))
    for c in cases:
        replay(c)
    for c in cases:
        live(c)
    sys.exit(tap.finish())


if __name__ == '__main__':
    main()
