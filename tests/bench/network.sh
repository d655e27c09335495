#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Network benchmark (issue 8): a private mydockerd and a private dockerd + containerd (Debian's
# docker.io), each with a bridge of its own on a /24 that clashes with no host route:
#   mydockerd --bridge mdnb<pid> --bip 10.217.X.1/24      (creates the bridge and its nft table
#                                                         `ip mydocker_mdnb<pid>`)
#   dockerd   --bridge dknb<pid>  (made here, 10.218.X.1/24), iptables on, userland proxy on
#                                                         (Docker's defaults: docker-proxy)
# Two figures, interleaved between the daemons, medians printed:
#   1. setup cost: `run --rm busybox true` with `--network none` and on the default bridge,
#      RUNS rounds (default 21, after 3 warm-ups), wall time from the shell; "bridge adds" is
#      the difference of the medians. Issue 8's target: <= 5 ms for mydocker.
#   2. TCP throughput through a port published on 127.0.0.1 (`-p 127.0.0.1:P:5001`): a static
#      C sink in the container (tcp_bench.c: 1 MiB reads, answers the byte count), a host-side
#      sender writing TPUT_MIB MiB (default 1024) in 1 MiB writes, TPUT_ROUNDS rounds
#      (default 9). mydocker's path is kernel DNAT (nft output chain + route_localnet +
#      masquerade); dockerd's is docker-proxy (127.0.0.1 is not DNATed with the userland proxy
#      on). Also each container's address straight from the host (no NAT, no proxy): the
#      ceiling of both paths, showing the sink is not the bottleneck. Target: mydocker >= 2x.
# Loopback and the two bridges only; no outside address. Everything made here is removed on
# exit, failure or ctrl-C: daemons (by PID), containers, bridges, mydocker's nft table,
# dockerd's iptables chains and rules (the iptables-nft tables too when they were not there
# before), netns mounts, temp dirs.
#
#   sudo tests/bench/network.sh [RUNS]                (MYDOCKER_BIN default build/bin, Release)
#   MYDOCKER_BIN=build-rel/bin TPUT_ROUNDS=15 TPUT_MIB=2048 sudo tests/bench/network.sh 31
#   BENCH_PROFILE=1 ...   also strace -f -tt the daemon over one run --rm per network mode and
#                         print where mydockerd's time goes (files under BENCH_PROFILE_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-21}
tput_rounds=${TPUT_ROUNDS:-9}
tput_mib=${TPUT_MIB:-1024}
bin=$(realpath "${MYDOCKER_BIN:-build/bin}")
for b in mydockerd mydocker mydocker-shim; do
  [ -x "$bin/$b" ] || { echo "network.sh: build first ($bin/$b missing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "network.sh: run as root" >&2; exit 1; }

work=$(mktemp -d /var/tmp/mydocker-netbench.XXXXXX)
. tests/bench/lib.sh
md_br=mdnb$$
dk_br=dknb$$
md_table=mydocker_$md_br
made_dk_br=0
started_dockerd=0
nft_before=
forward_policy=

# Rules dockerd put in the built-in chains (jumps to its chains, our bridge or subnet), then
# its chains; the iptables-nft tables themselves when they did not exist before and are empty.
dockerd_iptables_cleanup() {
  local t line chain chains
  for t in nat filter; do
    nft list table ip "$t" >/dev/null 2>&1 || continue
    iptables -t "$t" -S | grep -E '^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ' |
      grep -E -- "-j DOCKER|$dk_br|${dk_prefix:-none}" | while read -r line; do
      eval "iptables -t $t -D ${line#-A }"
    done
    chains=$(iptables -t "$t" -S | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }')
    for chain in $chains; do iptables -t "$t" -F "$chain"; done
    for chain in $chains; do iptables -t "$t" -X "$chain"; done
  done
  if [ -n "$forward_policy" ] && nft list table ip filter >/dev/null 2>&1; then
    iptables -P FORWARD "$forward_policy"
  fi
  for t in nat filter; do
    grep -qx "table ip $t" <<<"$nft_before" && continue
    nft list table ip "$t" >/dev/null 2>&1 || continue
    [ -z "$(iptables -t "$t" -S | grep -v '^-P ')" ] && nft delete table ip "$t"
  done
}

# Processes of ours a daemon left behind when it died first (crash, kill): its shims and their
# containers, found by PID through our cgroup parents and the temp dir in their command line;
# the daemons still alive are left to stop_daemons.
sweep_processes() {
  local p pids
  pids=$(cat /sys/fs/cgroup/*/"$cgparent"{,-docker}/{,*/}cgroup.procs 2>/dev/null)
  for p in /proc/[0-9]*; do
    grep -qF "$work/" "$p/cmdline" 2>/dev/null && pids+=" ${p#/proc/}"
  done
  for p in $pids; do
    case " $dpid $dkd_pid $ctd_pid $$ " in *" $p "*) continue ;; esac
    kill -KILL "$p" 2>/dev/null
  done
}

cleanup() {
  set +e
  # docker-proxy processes are dockerd's children; they end with their containers, but make
  # sure by PID (recorded while dockerd runs).
  local proxies=
  if [ -n "$dkd_pid" ]; then
    proxies=$(ps -o pid= --ppid "$dkd_pid" 2>/dev/null)
  fi
  for p in $dpid $dkd_pid $ctd_pid; do
    kill -0 "$p" 2>/dev/null || { sweep_processes; break; }
  done
  stop_daemons
  sweep_processes
  sleep 0.2
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    for p in "$cgparent" "$cgparent-docker"; do
      [ -d "$h$p" ] && find "$h$p" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  for p in $proxies; do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(command -v docker-proxy)" ] && kill "$p"
  done
  ip link show "$md_br" >/dev/null 2>&1 && ip link del "$md_br"
  nft list table ip "$md_table" >/dev/null 2>&1 && nft delete table ip "$md_table"
  [ "$made_dk_br" = 1 ] && ip link show "$dk_br" >/dev/null 2>&1 && ip link del "$dk_br"
  [ "$started_dockerd" = 1 ] && dockerd_iptables_cleanup
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ensure_cmds dockerd:docker.io containerd:containerd docker-proxy:docker.io docker:docker.io \
  iptables:iptables nft:nftables ip:iproute2 gcc:gcc python3:python3 curl:curl \
  busybox:busybox-static strace:strace
dpkg -s libc6-dev >/dev/null 2>&1 || ensure_cmds /nonexistent:libc6-dev

# Another Docker's chains would be shared with ours and could not be told apart at cleanup.
if iptables-save 2>/dev/null | grep -q '^:DOCKER'; then
  echo "network.sh: iptables already has DOCKER chains (another dockerd, or a run killed" \
    "with -9): remove them first" >&2
  exit 1
fi
nft_before=$(nft list tables)
if nft list table ip filter >/dev/null 2>&1; then
  forward_policy=$(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')
fi

# The two /24s: the first X with neither 10.217.X.0/24 nor 10.218.X.0/24 overlapping a route
# or an address of the host.
x=$(python3 - <<'PY'
import ipaddress, subprocess
used = []
for cmd in (["ip", "-4", "route", "show", "table", "all"], ["ip", "-4", "-o", "addr"]):
    for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
        for tok in line.split():
            try:
                net = ipaddress.ip_network(tok, strict=False)
            except ValueError:
                continue
            if net.prefixlen > 0:
                used.append(net)
for x in range(1, 255):
    mine = [ipaddress.ip_network(f"10.{b}.{x}.0/24") for b in (217, 218)]
    if not any(m.overlaps(u) for m in mine for u in used):
        print(x)
        break
PY
)
[ -n "$x" ] || { echo "network.sh: no free 10.217.X.0/24 + 10.218.X.0/24" >&2; exit 1; }
md_net=10.217.$x.0/24
dk_net=10.218.$x.0/24
dk_prefix="10\.218\.$x\."  # dockerd's rules name the subnet and its containers' addresses

# Two free ports on 127.0.0.1 for the published ports.
free_port() {
  local p
  for p in $(seq "$1" "$(($1 + 999))"); do
    [ -z "$(ss -Hltn "sport = :$p")" ] && { echo "$p"; return 0; }
  done
  return 1
}
mport=$(free_port $((20000 + $$ % 4000)))
dport=$(free_port $((mport + 1)))

gcc -O2 -static -Wall -Wextra -Werror -o "$work/tcp_bench" tests/bench/tcp_bench.c

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The daemons in process groups of their own (job control on while they start): a ctrl-C
# reaches this script, whose cleanup stops them through their APIs, not the daemons directly
# (a daemon killed by SIGINT would leave its containers running).
set -m
mydockerd_net_args=(--bridge "$md_br" --bip "10.217.$x.1/24")
start_mydockerd

ip link add "$dk_br" type bridge
made_dk_br=1
ip addr add "10.218.$x.1/24" dev "$dk_br"
ip link set "$dk_br" up
# Docker's defaults, spelled out: iptables on, the userland proxy (docker-proxy) on.
proxy=$(command -v docker-proxy)
dockerd_net_args=(--bridge "$dk_br" --iptables=true --ip6tables=false --userland-proxy=true
  --userland-proxy-path "$proxy")
started_dockerd=1
start_dockerd || { echo "network.sh: dockerd did not start" >&2; exit 1; }
set +m

# Each container gets an address of its daemon's bridge.
a=$(md run --rm busybox ip -4 -o addr show eth0 | awk '{ print $4 }')
b=$(dk run --rm busybox ip -4 -o addr show eth0 | awk '{ print $4 }')
case "$a" in 10.217.$x.*) ;; *) echo "network.sh: mydocker container got \`$a\`" >&2; exit 1 ;; esac
case "$b" in 10.218.$x.*) ;; *) echo "network.sh: dockerd container got \`$b\`" >&2; exit 1 ;; esac

# 1. setup cost per container
declare -A t=()
one() {  # CLIENT MODE: appends the wall time in ms to t[CLIENT_MODE]
  local s=$EPOCHREALTIME
  if [ "$2" = none ]; then "$1" run --rm --network none busybox true; else "$1" run --rm busybox true; fi
  t[$1_$2]+="$(ms_since "$s") "
}
for _ in 1 2 3; do
  for c in md dk; do for m in none bridge; do one "$c" "$m"; done; done
done
t=()
for ((i = 0; i < runs; i++)); do
  if ((i % 2)); then order="bridge none"; else order="none bridge"; fi
  for c in md dk; do for m in $order; do one "$c" "$m"; done; done
done
md_none=$(median <<<"${t[md_none]}")
md_bridge=$(median <<<"${t[md_bridge]}")
dk_none=$(median <<<"${t[dk_none]}")
dk_bridge=$(median <<<"${t[dk_bridge]}")

# 2. throughput through a published port on 127.0.0.1
mkdir "$work/sinkfs"
scripts/make-busybox-rootfs.sh "$work/sinkfs" >/dev/null
cp "$work/tcp_bench" "$work/sinkfs/tcp_bench"
tar -C "$work/sinkfs" --numeric-owner -cf "$work/sink.tar" .
md import -c 'CMD ["/tcp_bench", "sink", "5001"]' - netbench-sink:latest <"$work/sink.tar" >/dev/null
dk import -c 'CMD ["/tcp_bench", "sink", "5001"]' - netbench-sink:latest <"$work/sink.tar" >/dev/null
md run -d --name netbench-sink -p "127.0.0.1:$mport:5001" netbench-sink >/dev/null
dk run -d --name netbench-sink -p "127.0.0.1:$dport:5001" netbench-sink >/dev/null
md_ip=$(md inspect -f '{{.NetworkSettings.IPAddress}}' netbench-sink)
dk_ip=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' netbench-sink)
proxies=0
for p in $(ps -o pid= --ppid "$dkd_pid"); do
  [ "$(readlink "/proc/$p/exe")" = "$proxy" ] && tr '\0' ' ' <"/proc/$p/cmdline" |
    grep -q -- "-host-port $dport " && proxies=$((proxies + 1))
done
[ "$proxies" -ge 1 ] || { echo "network.sh: no docker-proxy for port $dport" >&2; exit 1; }
ready() {  # HOST PORT
  for _ in $(seq 1 200); do
    "$work/tcp_bench" send "$1" "$2" 1 >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "network.sh: nothing answers on $1:$2" >&2
  return 1
}
ready 127.0.0.1 "$mport"
ready 127.0.0.1 "$dport"
ready "$md_ip" 5001
ready "$dk_ip" 5001
bytes=$((tput_mib << 20))
send() { "$work/tcp_bench" send "$1" "$2" "$bytes"; }
# Untimed once each (first-touch costs: conntrack, the proxy's goroutines, page faults).
send 127.0.0.1 "$mport" >/dev/null
send 127.0.0.1 "$dport" >/dev/null
r_md= r_dk= r_mdd= r_dkd=
for ((i = 0; i < tput_rounds; i++)); do
  if ((i % 2)); then
    r_dk+="$(send 127.0.0.1 "$dport") "
    r_md+="$(send 127.0.0.1 "$mport") "
    r_dkd+="$(send "$dk_ip" 5001) "
    r_mdd+="$(send "$md_ip" 5001) "
  else
    r_md+="$(send 127.0.0.1 "$mport") "
    r_dk+="$(send 127.0.0.1 "$dport") "
    r_mdd+="$(send "$md_ip" 5001) "
    r_dkd+="$(send "$dk_ip" 5001) "
  fi
done
tp_md=$(median <<<"$r_md")
tp_dk=$(median <<<"$r_dk")
tp_mdd=$(median <<<"$r_mdd")
tp_dkd=$(median <<<"$r_dkd")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# Optional: where mydockerd's time goes in one run --rm per mode: every syscall of the daemon
# and its threads with its duration and the fds' paths (strace -f -tt -T -y), summed per
# syscall, and the slowest calls of the bridge run (waits for work, such as epoll_wait, left
# out). strace slows every syscall: compare the two modes, not the absolute times.
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
  pdir=${BENCH_PROFILE_DIR:-/tmp/netbench-profile}
  mkdir -p "$pdir"
  for m in none bridge none bridge; do
    strace -f -tt -T -y -s 96 -p "$dpid" -o "$pdir/mydockerd-$m.strace" 2>/dev/null &
    spid=$!
    sleep 1
    s=$EPOCHREALTIME
    if [ "$m" = none ]; then md run --rm --network none busybox true; else md run --rm busybox true; fi
    echo "profile: run --rm ($m) under strace: $(ms_since "$s") ms"
    sleep 0.5
    kill -INT "$spid"
    wait "$spid" 2>/dev/null || true
  done
  python3 - "$pdir/mydockerd-none.strace" "$pdir/mydockerd-bridge.strace" <<'PY'
import collections, re, sys
WAITS = {"epoll_wait", "epoll_pwait", "poll", "ppoll", "futex", "accept", "accept4", "wait4",
         "waitid", "select", "pselect6", "nanosleep", "clock_nanosleep", "restart_syscall",
         "rt_sigtimedwait", "read", "recvfrom"}
def parse(path):
    calls, pending = [], {}
    for line in open(path, errors="replace"):
        m = re.match(r"(\d+)\s+(\S+) (.*)", line)
        if not m:
            continue
        pid, ts, rest = m.groups()
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest
            continue
        r = re.match(r"<\.\.\. (\w+) resumed>(.*)", rest)
        if r:
            name, text = r.group(1), pending.pop(pid, "") + r.group(2)
        else:
            n = re.match(r"(\w+)\(", rest)
            if not n:
                continue
            name, text = n.group(1), rest
        d = re.search(r"<(\d+\.\d+)>$", rest)
        if d:
            calls.append((name, float(d.group(1)) * 1000, ts, text))
    return calls
for path in sys.argv[1:]:
    calls = parse(path)
    work = [c for c in calls if c[0] not in WAITS]
    by = collections.defaultdict(lambda: [0, 0.0])
    for name, ms, _, _ in work:
        by[name][0] += 1
        by[name][1] += ms
    total = sum(v[1] for v in by.values())
    print(f"{path}: {len(work)} syscalls (waits left out), {total:.1f} ms in them")
    for name, (n, ms) in sorted(by.items(), key=lambda kv: -kv[1][1])[:8]:
        print(f"  {name:<16} {n:5d} calls {ms:8.2f} ms")
calls = [c for c in parse(sys.argv[2]) if c[0] not in WAITS]
print("slowest calls of the bridge run:")
for name, ms, ts, text in sorted(calls, key=lambda c: -c[1])[:15]:
    print(f"  {ts} {ms:7.2f} ms  {text[:150]}")
PY
  echo "straces: $pdir/mydockerd-{none,bridge}.strace (the second run of each mode)"
fi

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == "le" ? v <= t : v >= t; print ok ? "met" : "NOT met" }'; }
md_adds=$(sub "$md_bridge" "$md_none")
dk_adds=$(sub "$dk_bridge" "$dk_none")
# The same difference per round (bridge and none ran back to back): less sensitive to load
# drifting during the run than the difference of the medians.
paired() { paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') |
  awk '{ print $2 - $1 }' | median; }
md_pair=$(paired "${t[md_none]}" "${t[md_bridge]}")
dk_pair=$(paired "${t[dk_none]}" "${t[dk_bridge]}")
tp_ratio=$(awk -v a="$tp_md" -v b="$tp_dk" 'BEGIN { printf "%.2f", a / b }')
echo "network benchmark ($(nproc) cores, load average $load_start at start, $load_end at end;"
echo "  binaries from $bin; bridges $md_br $md_net, $dk_br $dk_net)"
echo "setup cost: run --rm busybox true, median of $runs interleaved rounds"
printf '  %-10s --network none %7.1f ms   bridge %7.1f ms   bridge adds %5.1f ms (paired: %.1f ms)\n' \
  mydocker "$md_none" "$md_bridge" "$md_adds" "$md_pair" dockerd "$dk_none" "$dk_bridge" "$dk_adds" "$dk_pair"
echo "  target: bridge adds <= 5 ms to mydocker's run: $(verdict "$md_adds" 5 le)"
echo "TCP through a port published on 127.0.0.1, $tput_rounds interleaved rounds of $tput_mib MiB, median"
printf '  %-30s %8.1f MiB/s   (direct to the container: %.1f MiB/s)\n' \
  "mydocker (kernel DNAT)" "$tp_md" "$tp_mdd" "dockerd (docker-proxy)" "$tp_dk" "$tp_dkd"
echo "  mydocker / dockerd: ${tp_ratio}x; target >= 2x: $(verdict "$tp_ratio" 2 ge)"
if [ "${BENCH_VERBOSE:-0}" = 1 ]; then
  for k in md_none md_bridge dk_none dk_bridge; do echo "raw: $k=[${t[$k]}]"; done
  echo "raw: md=[$r_md] dk=[$r_dk] md_direct=[$r_mdd] dk_direct=[$r_dkd]"
fi
