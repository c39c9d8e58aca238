#!/usr/bin/env bash
# ctxpack-build.sh: a CI step that enforces build-context budgets and builds
# only when the context changed.
#
#   ctxpack-build.sh [options] [DIR] [-- BUILD COMMAND ...]
#
# 0. With --lint, `ctxpack lint` checks the context first: an error (a
#    secret that would be sent, a COPY source the build cannot find, a
#    pattern Docker refuses) ends the step with status 3 and nothing is
#    built; warnings are printed and the step goes on (--lint=strict: they
#    end it too).  Under GitHub Actions ($GITHUB_ACTIONS=true) the findings
#    are workflow annotations (lint --format=github) on the lines of the
#    ignore file and the Dockerfile.  Severities are lint's defaults,
#    changed by the repository's .ctxpack.conf in DIR.
# 1. `ctxpack stats` checks the budgets (--max-size, --max-files,
#    --min-reduction, --fail-on-dead-rules); a broken one ends the step with
#    status 4 and nothing is built.
# 2. `ctxpack digest` hashes the context exactly as the builder receives it
#    and compares it with the digest kept in the state file (a path to keep
#    in the CI cache).  Unchanged: "context unchanged (xxh3-128:...): build
#    skipped", status 0, nothing built.
# 3. Otherwise `ctxpack pack DIR | BUILD COMMAND` runs (the context tar on the
#    command's stdin; default: docker build -f DOCKERFILE -t TAG -), and only
#    when both sides of the pipe succeed is the digest of what was packed
#    (from pack's own manifest) written to the state file.
#
# Options (each also an environment variable; the option wins):
#   -f, --file FILE          CTXPACK_DOCKERFILE     the Dockerfile, relative to the
#                                                   current directory (default DIR/Dockerfile)
#   --builder B              CTXPACK_BUILDER        buildkit (default) or classic
#   --state FILE             CTXPACK_STATE          the digest of the last good build
#                                                   (default .ctxpack-digest)
#   -t, --tag TAG            CTXPACK_TAG            image tag for the default build command
#                                                   (default ctxpack-build:latest)
#   --compress C             CTXPACK_COMPRESS       none (default), gzip or zstd (pack --compress)
#   --max-size BYTES         CTXPACK_MAX_SIZE       budgets, as `ctxpack stats` takes them
#   --max-files N            CTXPACK_MAX_FILES
#   --min-reduction PCT      CTXPACK_MIN_REDUCTION
#   --fail-on-dead-rules     CTXPACK_FAIL_ON_DEAD_RULES=1
#   --lint[=strict]          CTXPACK_LINT=1|strict  run ctxpack lint first (step 0)
#   --force                  CTXPACK_FORCE=1        build even if the digest is unchanged
#   -q, --quiet              CTXPACK_QUIET=1        no stats report (budget failures still print)
#                            CTXPACK                the ctxpack program (default: ctxpack)
#                            CTXPACK_BUILD_CMD      the build command as one shell string
#                                                   (run with bash -c; `-- CMD...` wins)
#   -h, --help
#
# The state file must not be sent with the context (it would change the
# digest it records): when it lies inside DIR and the ignore rules do not
# exclude it, the step fails with status 2.
#
# Exit status:
#   0  built (digest stored) or skipped (context unchanged)
#   1  the pack or the build failed; the digest is not stored, so the next
#      run builds again
#   2  usage error, or ctxpack could not read the context
#   3  --lint found errors (or, with --lint=strict, warnings); nothing was built
#   4  a budget is broken; nothing was built
#
# With $GITHUB_OUTPUT set, `built=true|false` and `digest=...` are appended to it.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

ctxpack=${CTXPACK:-ctxpack}
dockerfile=${CTXPACK_DOCKERFILE:-}
builder=${CTXPACK_BUILDER:-}
state=${CTXPACK_STATE:-.ctxpack-digest}
tag=${CTXPACK_TAG:-ctxpack-build:latest}
compress=${CTXPACK_COMPRESS:-}
max_size=${CTXPACK_MAX_SIZE:-}
max_files=${CTXPACK_MAX_FILES:-}
min_reduction=${CTXPACK_MIN_REDUCTION:-}
dead_rules=${CTXPACK_FAIL_ON_DEAD_RULES:-}
force=${CTXPACK_FORCE:-}
lint=${CTXPACK_LINT:-}
quiet=${CTXPACK_QUIET:-}
dir=
build_cmd=()

need() { [ $# -ge 2 ] || die "option $1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
        -f|--file) need "$@"; dockerfile=$2; shift 2 ;;
        --file=*) dockerfile=${1#*=}; shift ;;
        --builder) need "$@"; builder=$2; shift 2 ;;
        --builder=*) builder=${1#*=}; shift ;;
        --state) need "$@"; state=$2; shift 2 ;;
        --state=*) state=${1#*=}; shift ;;
        -t|--tag) need "$@"; tag=$2; shift 2 ;;
        --tag=*) tag=${1#*=}; shift ;;
        --compress) need "$@"; compress=$2; shift 2 ;;
        --compress=*) compress=${1#*=}; shift ;;
        --max-size) need "$@"; max_size=$2; shift 2 ;;
        --max-size=*) max_size=${1#*=}; shift ;;
        --max-files) need "$@"; max_files=$2; shift 2 ;;
        --max-files=*) max_files=${1#*=}; shift ;;
        --min-reduction) need "$@"; min_reduction=$2; shift 2 ;;
        --min-reduction=*) min_reduction=${1#*=}; shift ;;
        --fail-on-dead-rules) dead_rules=1; shift ;;
        --lint) lint=1; shift ;;
        --lint=*) lint=${1#*=}; shift ;;
        --force) force=1; shift ;;
        -q|--quiet) quiet=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; build_cmd=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$dir" ] || die "more than one DIR: '$dir' and '$1'"; dir=$1; shift ;;
    esac
done
dir=${dir:-.}
[ -d "$dir" ] || die "'$dir' is not a directory"
[ -n "$state" ] || die "the state file name is empty"
case $builder in ''|buildkit|classic) ;; *) die "--builder must be buildkit or classic" ;; esac
case $compress in ''|none|gzip|zstd) ;; *) die "--compress must be none, gzip or zstd" ;; esac
case $lint in ''|0|false|no) lint= ;; 1|true|yes) lint=1 ;; strict) ;; *) die "--lint takes no value or 'strict'" ;; esac
command -v "$ctxpack" >/dev/null 2>&1 || die "ctxpack not found (set CTXPACK or PATH)"

# The options every ctxpack command gets, so they all see the same context.
common=()
[ -z "$builder" ] || common+=("--builder=$builder")
[ -z "$dockerfile" ] || common+=(-f "$dockerfile")

# The state file must not be part of what it describes.
state_abs=$(realpath -m -- "$state")
dir_abs=$(realpath -e -- "$dir")
case $state_abs in
    "$dir_abs"/*)
        rel=${state_abs#"$dir_abs"/}
        rc=0
        # check-ignore -C DIR takes -f relative to DIR: give it absolute.
        ci=(--builder="${builder:-buildkit}")
        [ -z "$dockerfile" ] || ci+=(-f "$(realpath -m -- "$dockerfile")")
        "$ctxpack" check-ignore "${ci[@]}" -C "$dir" -- "$rel" >/dev/null || rc=$?
        case $rc in
            0) ;;   # excluded by the rules: fine
            1) die "the state file '$state' is inside the context and would be sent (it would change the digest it records); exclude it in .dockerignore or use --state with a path outside '$dir'" ;;
            *) die "ctxpack check-ignore failed (exit $rc)" ;;
        esac ;;
esac

# 0. Lint.
if [ -n "$lint" ]; then
    fmt=text
    [ "${GITHUB_ACTIONS:-}" != true ] || fmt=github
    rc=0
    "$ctxpack" lint --format="$fmt" "${common[@]}" "$dir" || rc=$?
    case $rc in
        0) ;;
        1) if [ "$lint" = strict ]; then
               echo "$prog: lint warnings (--lint=strict): nothing built" >&2; exit 3
           fi ;;
        3) echo "$prog: lint errors: nothing built" >&2; exit 3 ;;
        *) die "ctxpack lint failed (exit $rc)" ;;
    esac
fi

# 1. Budgets.
budgets=()
[ -z "$max_size" ] || budgets+=("--max-size=$max_size")
[ -z "$max_files" ] || budgets+=("--max-files=$max_files")
[ -z "$min_reduction" ] || budgets+=("--min-reduction=$min_reduction")
case $dead_rules in ''|0|false|no) ;; *) budgets+=(--fail-on-dead-rules) ;; esac
rc=0
if [ -n "$quiet" ] && [ "$quiet" != 0 ]; then
    "$ctxpack" stats -q "${common[@]}" "${budgets[@]}" "$dir" >/dev/null || rc=$?
else
    "$ctxpack" stats -q --top 5 "${common[@]}" "${budgets[@]}" "$dir" || rc=$?
fi
case $rc in
    0) ;;
    4) echo "$prog: context budget broken: nothing built" >&2; exit 4 ;;
    *) die "ctxpack stats failed (exit $rc)" ;;
esac

# 2. Digest, compared with the last good build's.
rc=0
digest=$("$ctxpack" digest -q "${common[@]}" "$dir") || rc=$?
if [ "$rc" -ne 0 ] || [ -z "$digest" ]; then
    die "ctxpack digest failed (exit $rc)"
fi
previous=
if [ -f "$state" ]; then
    IFS= read -r previous <"$state" || true
fi

output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf 'built=%s\ndigest=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

if [ "$digest" = "$previous" ] && { [ -z "$force" ] || [ "$force" = 0 ]; }; then
    echo "context unchanged ($digest): build skipped"
    output false "$digest"
    exit 0
fi

# 3. Build.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

if [ ${#build_cmd[@]} -eq 0 ] && [ -n "${CTXPACK_BUILD_CMD:-}" ]; then
    build_cmd=(bash -c "$CTXPACK_BUILD_CMD")
fi
if [ ${#build_cmd[@]} -eq 0 ]; then
    # docker build - wants the Dockerfile's name inside the archive: its path
    # below DIR, or, for a Dockerfile outside DIR, the .dockerfile.<hex>
    # member pack adds for it (the last one `ctxpack ls` lists).
    name=Dockerfile
    if [ -n "$dockerfile" ]; then
        df_abs=$(realpath -m -- "$dockerfile")
        case $df_abs in
            "$dir_abs"/*) name=${df_abs#"$dir_abs"/} ;;
            *) name=$("$ctxpack" ls "${common[@]}" "$dir" | grep -E '^\.dockerfile\.[0-9a-f]{20}$' | tail -n 1) ||
                   die "cannot find the name of the Dockerfile outside the context" ;;
        esac
    fi
    build_cmd=(docker build -f "$name" -t "$tag" -)
fi

pack=("$ctxpack" pack -q "${common[@]}" --manifest "$tmp/manifest")
[ -z "$compress" ] || pack+=("--compress=$compress")
echo "context changed (${previous:-no previous build} -> $digest): building" >&2
rc=0
"${pack[@]}" "$dir" | "${build_cmd[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "$prog: the build failed (exit $rc): digest not stored" >&2
    output false "$digest"
    exit 1
fi

# What was built is what pack read, even if the tree moved since step 2.
built=$("$ctxpack" digest -q "$tmp/manifest") || die "ctxpack digest of the manifest failed"
mkdir -p -- "$(dirname -- "$state")"
printf '%s\n' "$built" >"$state.tmp.$$"
mv -f -- "$state.tmp.$$" "$state"
echo "built $built; digest stored in $state" >&2
output true "$built"
