#!/usr/bin/env bash
# One study, two hosts: two network namespaces, each with its own host name (a UTS namespace)
# and its own address, run `lathe search --worker` against one PostgreSQL that listens on a
# bridge in the root namespace, as workers on two machines would. One host's worker is killed
# with kill -9 mid-trial; the other must fail its trial by its heartbeat and run it again.
# Needs root (ip netns, unshare); exits 77 with the reason without it.
#
#   scripts/two-host-study.sh            # LATHE=path to use a built binary (default .build/debug/lathe)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
LATHE=${LATHE:-$root/.build/debug/lathe}
[ "$(id -u)" -eq 0 ] || { echo "two-host-study: skipped (needs root for ip netns)" >&2; exit 77; }
command -v ip >/dev/null && command -v unshare >/dev/null ||
  { echo "two-host-study: skipped (needs ip and unshare)" >&2; exit 77; }
# Root in a container may still lack the right to make namespaces or links.
if ! { ip netns add "lathe-probe-$$" && ip netns del "lathe-probe-$$"; } 2>/dev/null ||
  ! unshare --uts true 2>/dev/null || ! ip link add "lp$$" type bridge 2>/dev/null; then
  echo "two-host-study: skipped (this machine does not allow network or UTS namespaces)" >&2
  exit 77
fi
ip link del "lp$$"
[ -x "$LATHE" ] || { echo "two-host-study: no lathe at $LATHE (swift build first)" >&2; exit 1; }

work=""
bridge=lathe-br0
net=10.78.0
cleanup() {
  for h in a b; do
    ip netns pids "lathe-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "lathe-$h" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  if [ -n "$work" ]; then
    scripts/postgres-server stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The network: a bridge at $net.1 in the root namespace, each host a veth on it.
cleanup  # what an interrupted run may have left
work=$(mktemp -d /tmp/lathe-two-host.XXXXXX)
chmod 755 "$work"
ip link add "$bridge" type bridge
ip addr add "$net.1/24" dev "$bridge"
ip link set "$bridge" up
for h in a b; do
  n=$([ "$h" = a ] && echo 11 || echo 12)
  ip netns add "lathe-$h"
  ip link add "lv-$h" type veth peer name eth0 netns "lathe-$h"
  ip link set "lv-$h" master "$bridge" up
  ip -n "lathe-$h" addr add "$net.$n/24" dev eth0
  ip -n "lathe-$h" link set eth0 up
  ip -n "lathe-$h" link set lo up
done

# PostgreSQL, also listening on the bridge, trusting the hosts' addresses (a throwaway cluster).
port=""
for candidate in $(seq 54360 54390); do
  status=0
  scripts/postgres-server start "$work/pg" "$candidate" >/dev/null 2>"$work/pg-start.log" || status=$?
  if [ "$status" -eq 0 ]; then port=$candidate; break; fi
  if [ "$status" -eq 77 ]; then cat "$work/pg-start.log" >&2; exit 77; fi
  scripts/postgres-server stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work/pg"
done
[ -n "$port" ] || { echo "two-host-study: no free port for PostgreSQL in 54360-54390" >&2; exit 1; }
data="$work/pg/data"
echo "host all all $net.0/24 trust" >>"$data/pg_hba.conf"
echo "listen_addresses = '127.0.0.1,$net.1'" >>"$data/postgresql.conf"
owner=$(stat -c %U "$data")
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")
runuser -u "$owner" -- "$bin/pg_ctl" restart -D "$data" -w -m fast -l "$work/pg/server.log" -o "-p $port" >/dev/null
url="postgresql://lathe@$net.1:$port/lathe_test"
echo "database $url; hosts lathe-a ($net.11) and lathe-b ($net.12)"

# A worker on host $1: its own network and host name, the study on the database across the bridge.
worker() {
  local host=$1 seconds=$2
  ip netns exec "lathe-$host" unshare --uts sh -c "hostname host-$host; cd $work; exec $LATHE search \
    --function branin --function-seconds $seconds --trials 8 --jobs 1 --heartbeat 1 \
    --storage $url --study-name two-hosts --worker" >"$work/$host.log" 2>&1
}
query() { "$bin/psql" -h "$work/pg" -p "$port" -U lathe -d lathe_test -tA -F' ' -c "$1"; }

worker a 30 &
victim=$!
until [ "$(query "SELECT count(*) FROM trials WHERE CAST(state AS TEXT) = 'RUNNING'" 2>/dev/null)" = 1 ]; do sleep 0.2; done
worker b 0.5 &
other=$!
sleep 1
# Every process on host a at once, as when a machine dies.
ip netns pids lathe-a | xargs -r kill -9
killed=$(date +%s.%N)
wait "$other"
done_at=$(date +%s.%N)
wait "$victim" 2>/dev/null || true

echo "trials (number state host):"
query "SELECT t.number, CAST(t.state AS TEXT), a.value_json FROM trials t
  LEFT JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a.\"key\" = 'lathe:host' ORDER BY t.number"
failed=$(query "SELECT count(*) FROM trials WHERE CAST(state AS TEXT) = 'FAIL'")
retried=$(query "SELECT count(*) FROM trial_system_attributes WHERE \"key\" = 'failed_trial'")
complete=$(query "SELECT count(*) FROM trials WHERE CAST(state AS TEXT) = 'COMPLETE'")
hosts=$(query "SELECT count(DISTINCT value_json) FROM trial_system_attributes WHERE \"key\" = 'lathe:host'")
printf 'host-a killed; host-b finished the study %.1f s later\n' "$(echo "$done_at - $killed" | bc)"
echo "complete $complete, failed $failed, retried $retried, hosts $hosts"
if [ "$complete" = 8 ] && [ "$failed" = 1 ] && [ "$retried" = 1 ] && [ "$hosts" = 2 ]; then
  echo "two hosts: no trial lost or run twice"
else
  echo "two hosts: FAILED; the workers' logs:" >&2
  tail -n 5 "$work/a.log" "$work/b.log" >&2
  exit 1
fi
