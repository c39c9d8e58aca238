#!/usr/bin/env bash
# scripts/engine.sh: a real Docker engine (dockerd 26.1 with BuildKit,
# buildx 0.13.1, containerd 1.7) for tests, benchmarks and CI, from Debian
# trixie's packages, unpacked privately: nothing is installed into the
# system, the system's apt state is not touched, no network is set up for
# containers (none can run: only FROM scratch builds work).  See
# ../../shared/ENGINE.md for the recipe it follows.
#
#   scripts/engine.sh fetch    download and unpack the packages (skipped when present)
#   scripts/engine.sh start    start containerd and dockerd on a private socket; waits
#   scripts/engine.sh stop     stop them by their recorded PIDs (dockerd first)
#   scripts/engine.sh env      print export lines:  eval "$(scripts/engine.sh env)"
#                              (--tests: CTXPACK_ENGINE_HOST and CTXPACK_DOCKER_CONFIG
#                              instead, what tests/engine/ reads)
#   scripts/engine.sh status   say whether it runs; exit 0 if it answers, 3 if not
#
# Everything lives under $CTXPACK_ENGINE_DIR (default ~/.cache/ctxpack-engine):
# root/ (the unpacked packages), apt/ (the private apt configuration), and
# run/ (sockets, PID files, logs, data: removed by nothing but you).
# CTXPACK_ENGINE_TIMEOUT (seconds, default 60) bounds the waits of start and stop;
# CTXPACK_APT_ETC (default /etc/apt) is where fetch reads the system's sources.
# Start needs root (dockerd does); fetch needs apt-get and dpkg-deb.
set -euo pipefail

DIR=${CTXPACK_ENGINE_DIR:-${HOME:-/root}/.cache/ctxpack-engine}
ROOT=$DIR/root
APT=$DIR/apt
RUN=$DIR/run
TIMEOUT=${CTXPACK_ENGINE_TIMEOUT:-60}
SOCK=$RUN/docker.sock
CSOCK=$RUN/containerd/containerd.sock
DOCKER_CONFIG_DIR=$RUN/docker-config
# runc: dockerd refuses to start without a runc binary on its PATH (trixie's needs
# glibc 2.38, so on bookworm no container runs; the builds that need none work).
PACKAGES=(docker.io docker-buildx containerd runc)
BUILDX=$ROOT/usr/libexec/docker/cli-plugins/docker-buildx

die() { echo "engine.sh: $*" >&2; exit 1; }
note() { echo "engine.sh: $*" >&2; }

# --- fetch ------------------------------------------------------------------

# The mirror the system's apt sources use for Debian (deb822 .sources
# first, then one-line sources.list), and the keyring they name, if any.
system_mirror() {
	local etc=${CTXPACK_APT_ETC:-/etc/apt} f uri=""
	shopt -s nullglob
	for f in "$etc"/sources.list.d/*.sources; do
		# the first stanza whose URIs end in /debian (not -security, not a third party)
		uri=$(awk '
			/^[ \t]*$/ { if (u != "" && d) { print u "\t" k; exit } u = ""; k = ""; d = 0; next }
			/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) u = $i }
			/^Suites:/ { d = 1 }
			/^Signed-By:/ { k = $2 }
			END { if (u != "" && d) print u "\t" k }' "$f" | head -n1)
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ]; then
		for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			# deb [opt=v signed-by=K ...] URI suite components
			uri=$(awk '$1 == "deb" {
				k = ""; i = 2
				if ($2 ~ /^\[/) {
					for (; i <= NF; i++) {
						if ($i ~ /signed-by=/) {
							k = $i; sub(/.*signed-by=/, "", k); sub(/\]$/, "", k)
						}
						if ($i ~ /\]$/) { i++; break }
					}
				}
				if ($i ~ /\/debian\/?$/) { print $i "\t" k; exit } }' "$f")
			[ -n "$uri" ] && break
		done
	fi
	shopt -u nullglob
	printf '%s\n' "$uri"
}

have_root() {
	[ -x "$ROOT/usr/sbin/dockerd" ] && [ -x "$ROOT/usr/bin/containerd" ] &&
		[ -x "$ROOT/usr/sbin/runc" ] && [ -x "$BUILDX" ]
}

cmd_fetch() {
	if have_root; then
		note "already fetched: $ROOT"
		return 0
	fi
	command -v apt-get >/dev/null || die "fetch: apt-get not found (a Debian-like system is needed)"
	command -v dpkg-deb >/dev/null || die "fetch: dpkg-deb not found"
	local line uri keyring
	line=$(system_mirror)
	uri=${line%%$'\t'*}
	keyring=${line#*$'\t'}
	local etc=${CTXPACK_APT_ETC:-/etc/apt}
	[ -n "$uri" ] || die "fetch: no Debian mirror found in $etc/sources.list.d/*.sources" \
		"or $etc/sources.list"
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
	local opts=""
	[ -n "$keyring" ] && [ "$keyring" != "$line" ] && opts=" [signed-by=$keyring]"
	printf 'deb%s %s trixie main\n' "$opts" "$uri" > "$APT/sources.list"
	local aptopts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
		-o Dir::State::status=/dev/null -o Debug::NoLocking=1
		-o APT::Sandbox::User=root)
	# (APT::Sandbox::User=root: its methods run as root, as the private
	# directories are root's; the _apt user also needs a world-writable /tmp
	# for gpgv, which a machine may not have.)
	local log=$APT/fetch.log
	note "fetch: apt-get update from $uri trixie (log: $log)"
	apt-get "${aptopts[@]}" update > "$log" 2>&1 ||
		die "fetch: apt-get update of trixie from $uri failed (log: $log)"
	(cd "$APT/debs" && rm -f ./*.deb &&
		apt-get "${aptopts[@]}" download "${PACKAGES[@]}") >> "$log" 2>&1 ||
		die "fetch: apt-get download ${PACKAGES[*]} failed (log: $log)"
	# Unpack into a fresh directory and move it into place: a fetch that
	# fails half-way leaves no half root behind to be taken for a whole one.
	local tmp=$DIR/root.tmp deb
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for deb in "$APT/debs"/*.deb; do
		dpkg-deb -x "$deb" "$tmp" >> "$log" 2>&1 || die "fetch: dpkg-deb -x $deb failed (log: $log)"
	done
	rm -rf "$ROOT"
	mv "$tmp" "$ROOT"
	have_root || die "fetch: the packages lack dockerd, containerd, runc or docker-buildx" \
		"(see $ROOT, log: $log)"
	note "fetched into $ROOT: $(cd "$APT/debs" && echo *.deb)"
}

# --- start / stop -----------------------------------------------------------

# The PID in FILE if that process is alive and runs PROGRAM; else nothing.
live_pid() { # file program
	local pid exe
	[ -r "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[ "${exe% (deleted)}" = "$ROOT/usr/$2" ] || return 1
	echo "$pid"
}


# Bounded: a daemon busy deleting a large image holds its store's lock, and
# `docker info` then waits for it.
answers() { timeout 10 env DOCKER_CONFIG="$DOCKER_CONFIG_DIR" docker -H "unix://$SOCK" \
	version --format '{{.Server.Version}}' >/dev/null 2>&1; }

write_containerd_config() {
	cat > "$RUN/containerd.toml" <<EOF
version = 2
root = "$RUN/containerd-root"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CSOCK"

[ttrpc]
  address = "$CSOCK.ttrpc"

[debug]
  address = "$RUN/containerd/debug.sock"
EOF
}

# Whether the PID in FILE is a process that has not exited (it may still be
# between fork and exec: live_pid's check of the program would race).
alive() { # file
	local pid state
	pid=$(cat "$1" 2>/dev/null) || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

wait_for() { # what log pidfile command...: until the command succeeds or TIMEOUT
	local what=$1 log=$2 pidfile=$3; shift 3
	local i=0
	while ! "$@"; do
		if ! alive "$pidfile"; then
			echo "engine.sh: $what exited while starting (log: $log); its last lines:" >&2
			tail -n 5 "$log" >&2 || true
			return 1
		fi
		if [ $i -ge $((TIMEOUT * 10)) ]; then
			echo "engine.sh: $what did not answer within ${TIMEOUT}s (log: $log)" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

start_dockerd() { # storage-driver
	local drv=$1 log=$RUN/dockerd.log
	rm -f "$SOCK" "$RUN/dockerd.pid"
	echo "=== $(date -u +%FT%TZ) dockerd --storage-driver=$drv" >> "$log"
	PATH=$ROOT/usr/bin:$ROOT/usr/sbin:$PATH setsid "$ROOT/usr/sbin/dockerd" \
		--containerd "$CSOCK" --data-root "$RUN/docker-data/$drv" \
		--exec-root "$RUN/docker-exec" --pidfile "$RUN/dockerd.pid.daemon" \
		-H "unix://$SOCK" --iptables=false --ip6tables=false --ip-forward=false \
		--ip-masq=false --bridge=none --userland-proxy=false \
		--storage-driver="$drv" >> "$log" 2>&1 < /dev/null &
	echo $! > "$RUN/dockerd.pid"
	wait_for "dockerd (storage driver $drv)" "$log" "$RUN/dockerd.pid" answers
}

cmd_start() {
	have_root || die "start: the engine is not fetched (run: $0 fetch)"
	command -v docker >/dev/null || die "start: the docker CLI is not on the PATH"
	[ "$(id -u)" = 0 ] || die "start: dockerd needs root"
	mkdir -p "$RUN/containerd" "$DOCKER_CONFIG_DIR/cli-plugins"
	ln -sfn "$BUILDX" "$DOCKER_CONFIG_DIR/cli-plugins/docker-buildx"
	[ -e "$DOCKER_CONFIG_DIR/config.json" ] || echo '{}' > "$DOCKER_CONFIG_DIR/config.json"
	local dpid cpid
	dpid=$(live_pid "$RUN/dockerd.pid" sbin/dockerd) || dpid=""
	cpid=$(live_pid "$RUN/containerd.pid" bin/containerd) || cpid=""
	if [ -n "$dpid" ] && [ -n "$cpid" ] && answers; then
		note "already running (dockerd $dpid, containerd $cpid) on unix://$SOCK"
		return 0
	fi
	# A half-started or half-dead engine of ours: stop what is left by its PIDs.
	if [ -n "$dpid$cpid" ]; then
		note "start: a previous engine is only partly up; stopping it first"
		cmd_stop
	fi
	rm -f "$RUN/dockerd.pid" "$RUN/containerd.pid" "$SOCK" "$CSOCK" "$CSOCK.ttrpc" \
		"$RUN/containerd/debug.sock" "$RUN/dockerd.pid.daemon"
	write_containerd_config
	local clog=$RUN/containerd.log
	echo "=== $(date -u +%FT%TZ) containerd" >> "$clog"
	PATH=$ROOT/usr/bin:$ROOT/usr/sbin:$PATH setsid "$ROOT/usr/bin/containerd" \
		--config "$RUN/containerd.toml" >> "$clog" 2>&1 < /dev/null &
	echo $! > "$RUN/containerd.pid"
	if ! wait_for containerd "$clog" "$RUN/containerd.pid" test -S "$CSOCK"; then
		cmd_stop >/dev/null 2>&1 || true
		exit 1
	fi
	if ! start_dockerd overlay2; then
		note "start: overlay2 failed; trying the vfs storage driver (slower)"
		stop_one dockerd "$RUN/dockerd.pid" sbin/dockerd || true
		if ! start_dockerd vfs; then
			cmd_stop >/dev/null 2>&1 || true
			die "start: dockerd did not start with overlay2 nor vfs (log: $RUN/dockerd.log)"
		fi
	fi
	note "running: dockerd $(cat "$RUN/dockerd.pid"), containerd $(cat "$RUN/containerd.pid")," \
		"unix://$SOCK (logs: $RUN/*.log)"
}

stop_one() { # name pidfile program: SIGTERM, wait, SIGKILL after TIMEOUT
	local name=$1 file=$2 prog=$3 pid i=0
	if ! pid=$(live_pid "$file" "$prog"); then
		[ -e "$file" ] && note "stop: $name is not running (stale PID file $file removed)"
		rm -f "$file"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while [ -d "/proc/$pid" ] && live_pid "$file" "$prog" >/dev/null; do
		if [ $i -ge $((TIMEOUT * 10)) ]; then
			note "stop: $name ($pid) did not exit within ${TIMEOUT}s of SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	rm -f "$file"
}

cmd_stop() {
	stop_one dockerd "$RUN/dockerd.pid" sbin/dockerd
	# containerd's shims (none here: no container runs) would outlive it; the
	# daemon itself is all we started.
	stop_one containerd "$RUN/containerd.pid" bin/containerd
	rm -f "$SOCK" "$RUN/dockerd.pid.daemon"
}

cmd_env() { # [--tests]
	if [ "${1:-}" = --tests ]; then
		# For the test suites: they point the docker CLI at the engine themselves.
		printf 'export CTXPACK_ENGINE_HOST=unix://%s\n' "$SOCK"
		printf 'export CTXPACK_DOCKER_CONFIG=%s\n' "$DOCKER_CONFIG_DIR"
		return 0
	fi
	printf 'export DOCKER_HOST=unix://%s\n' "$SOCK"
	printf 'export DOCKER_CONFIG=%s\n' "$DOCKER_CONFIG_DIR"
	printf 'export BUILDX_NO_DEFAULT_ATTESTATIONS=1\n'
}

cmd_status() {
	local dpid cpid
	dpid=$(live_pid "$RUN/dockerd.pid" sbin/dockerd) || dpid=""
	cpid=$(live_pid "$RUN/containerd.pid" bin/containerd) || cpid=""
	if have_root; then echo "fetched: $ROOT"; else echo "not fetched ($ROOT)"; fi
	echo "containerd: ${cpid:-not running}"
	echo "dockerd: ${dpid:-not running}"
	if [ -n "$dpid" ] && answers; then
		echo "answers on unix://$SOCK: $(timeout 10 env DOCKER_CONFIG="$DOCKER_CONFIG_DIR" \
			docker -H "unix://$SOCK" version --format \
			'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
		return 0
	fi
	echo "no engine answers on unix://$SOCK"
	return 3
}

case ${1:-} in
fetch) cmd_fetch ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env "${2:-}" ;;
status) cmd_status ;;
*) echo "usage: $0 fetch|start|stop|env|status" >&2; exit 2 ;;
esac
