#!/usr/bin/env python3
"""BuildKit's progress as ctxpack renders it (src/bktrace.c) against what
the docker CLI prints, on fresh builds of the real engine: the cases of
tests/vectors/bktrace are recorded anew into a temporary directory
(record.py: the engine's /build?version=2 answer and `docker build
--progress=plain` of the same Dockerfile), and test_bktrace runs on them
as it runs on the checked-in ones, but for their exact equality: the
docker CLI's output depends on how its 100 ms display interval fell (see
check_case in tests/unit/test_bktrace.c).

The engine is the project's own (CTXPACK_ENGINE_HOST, CTXPACK_DOCKER_CONFIG:
`eval "$(scripts/engine.sh env --tests)"`); without it the check is skipped
visibly.

usage: test_bktrace_live.py PATH_TO_TEST_BKTRACE"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "vectors", "bktrace"))
import tap  # noqa: E402
import record  # noqa: E402

NAME = "fresh engine streams render as the docker CLI printed the same builds"


def main():
    test_bktrace = os.path.abspath(sys.argv[1])
    host = os.environ.get("CTXPACK_ENGINE_HOST", "")
    config = os.environ.get("CTXPACK_DOCKER_CONFIG", "")
    if not host.startswith("unix://"):
        tap.skip(NAME, "no engine (CTXPACK_ENGINE_HOST unset or not unix://)")
        return tap.finish()
    if not shutil.which("docker"):
        tap.skip(NAME, "the docker CLI is not installed")
        return tap.finish()
    os.environ["DOCKER_HOST"] = host
    os.environ["BUILDX_NO_DEFAULT_ATTESTATIONS"] = "1"
    if config:
        os.environ["DOCKER_CONFIG"] = config
    tmp = tap.mkdtemp("ctxpack-bktrace-live-")
    tags = []
    try:
        tags = record.record(tmp, host[len("unix://"):],
                             "ctxpack-bktrace-live-%d-" % os.getpid())
        p = subprocess.run([test_bktrace, "--live", tmp], capture_output=True, timeout=120)
        tap.check(NAME, p.returncode == 0,
                  (p.stdout + p.stderr).decode(errors="replace"))
    finally:
        if tags:
            subprocess.run(["docker", "rmi", "-f"] + tags, capture_output=True, timeout=120)
        tap.remove_tree(tmp)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
