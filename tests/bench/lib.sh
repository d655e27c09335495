# Sourced by the benchmark scripts: private daemons (mydockerd, and dockerd + containerd when
# installed) on temp roots, sockets and cgroup parents, torn down on exit; timing helpers.
# Needs: $bin (mydocker build's bin dir) and $work (a temp dir the caller owns).

dpid=
ctd_pid=
dkd_pid=
sock=$work/mydockerd.sock
dsock=$work/dockerd.sock
cgparent=/mydocker-bench-$$
md() { "$bin/mydocker" -H "unix://$sock" "$@"; }
dk() { docker -H "unix://$dsock" "$@"; }
# The daemons' network flags: no default bridge by default; network.sh gives each its own.
mydockerd_net_args=(--bridge none)
dockerd_net_args=(--bridge none --iptables=false --ip6tables=false)

# ensure_cmds CMD:PACKAGE...: installs the Debian packages of the commands not found.
ensure_cmds() {
  local c missing=()
  for c in "$@"; do command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ms_since() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (e - s) * 1000 }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

wait_socket() {  # SOCKET PID LOG
  for _ in $(seq 1 3000); do
    curl -sf --unix-socket "$1" http://d/_ping >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; return 1; }
    sleep 0.01
  done
  cat "$3" >&2
  return 1
}

start_mydockerd() {
  # The exec root is volatile state, on a tmpfs as /run is on a systemd host.
  mkdir -p "$work/exec"
  if [ "${BENCH_EXEC_TMPFS:-1}" = 1 ]; then
    mount -t tmpfs -o mode=0700 tmpfs "$work/exec"
  fi
  echo '{}' >"$work/daemon.json"
  # No default bridge, like the private dockerd below (--bridge none): the same work on both
  # sides, and nothing left on the host's network (a bridge outlives its daemon).
  "$bin/mydockerd" --data-root "$work/data" --exec-root "$work/exec" -H "unix://$sock" \
    --pidfile "$work/mydockerd.pid" --config-file "$work/daemon.json" \
    --cgroup-parent "$cgparent" "${mydockerd_net_args[@]}" 2>"$work/mydockerd.log" &
  dpid=$!
  wait_socket "$sock" "$dpid" "$work/mydockerd.log"
  MYDOCKER_HOST=unix://$sock scripts/make-busybox-image.sh "$bin/mydocker" >/dev/null
}

# dockerd + containerd of Debian's docker.io, private roots; busybox:latest imported from the
# same busybox-static rootfs. Returns 1 (and starts nothing) when not installed.
start_dockerd() {
  command -v dockerd >/dev/null && command -v containerd >/dev/null || return 1
  mkdir -p "$work/ctd" "$work/docker-exec"
  containerd --root "$work/ctd/root" --state "$work/ctd/state" --address "$work/ctd.sock" \
    >"$work/containerd.log" 2>&1 &
  ctd_pid=$!
  for _ in $(seq 1 500); do [ -S "$work/ctd.sock" ] && break; sleep 0.01; done
  dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$dsock" \
    --containerd "$work/ctd.sock" --pidfile "$work/dockerd.pid" "${dockerd_net_args[@]}" \
    --cgroup-parent "$cgparent-docker" \
    >"$work/dockerd.log" 2>&1 &
  dkd_pid=$!
  wait_socket "$dsock" "$dkd_pid" "$work/dockerd.log" || return 1
  local rootfs=$work/busybox-rootfs
  scripts/make-busybox-rootfs.sh "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | dk import -c 'CMD ["sh"]' - busybox:latest >/dev/null
}

stop_daemons() {
  set +e
  if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    ids=$(md ps -aq --no-trunc 2>/dev/null)
    [ -z "$ids" ] || md rm -f $ids >/dev/null 2>&1
    kill -TERM "$dpid"
    wait "$dpid" 2>/dev/null
  fi
  if [ -n "$dkd_pid" ] && kill -0 "$dkd_pid" 2>/dev/null; then
    ids=$(dk ps -aq --no-trunc 2>/dev/null)
    [ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
    kill -TERM "$dkd_pid"
    wait "$dkd_pid" 2>/dev/null
  fi
  if [ -n "$ctd_pid" ] && kill -0 "$ctd_pid" 2>/dev/null; then
    kill -TERM "$ctd_pid"
    wait "$ctd_pid" 2>/dev/null
  fi
  # Anything the daemons left: mounts under the temp dir, our cgroup parents.
  awk -v w="$work/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    for p in "$cgparent" "$cgparent-docker"; do
      [ -d "$h$p" ] && find "$h$p" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  rm -rf "$work"
}
