#!/usr/bin/env bash
# Figures for studies in Optuna's schema (issue 17), on the test function Branin:
#   SQLite: a 200-trial study's wall time, trials/s and storage time per trial, beside the
#     same study in a .jsonl journal; then a 200-trial study killed (kill -9) near trial 100
#     and resumed, checked row by row: no trial lost, none run twice.
#   PostgreSQL (a throwaway server from scripts/postgres-server; skipped when there is none):
#     throughput of 1 against 4 worker processes; failover: 3 workers, one killed with kill -9
#     mid-trial, timed from the kill to its FAIL row and to its retry's COMPLETE, three times,
#     each study checked the same way.
# Usage: scripts/study-figures.sh
# Env: LATHE (binary; default: a release build in SCRATCH), SCRATCH (.build-release),
#      OUT (work folder; default: a temp one), PORT (first port to try for PostgreSQL; 54340).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${LATHE:-}" ]; then
  SCRATCH=${SCRATCH:-$ROOT/.build-release}
  echo "building lathe (release) in $SCRATCH ..." >&2
  swift build -c release --product lathe --scratch-path "$SCRATCH" >&2
  LATHE=$SCRATCH/release/lathe
fi
OUT=${OUT:-$(mktemp -d /tmp/lathe-study-figures.XXXXXX)}
mkdir -p "$OUT"
# The first processor's line lists both flags when it has both.
flags=$(grep -m1 -o 'avx512_vnni\|avx2' /proc/cpuinfo | tr '\n' ' ' || true)
echo "cpu: ${flags:-neither avx2 nor avx512_vnni }($(nproc) cores)"
echo "binary $LATHE; work folder $OUT"

now() { date +%s.%N; }
# Runs the rest every 0.1 s until it succeeds; fails after $1 seconds.
poll() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
# $1 - $2, to $3 decimals
minus() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, a - b }'; }
# A field of the JSON object on stdin (lathe search --json).
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

# SQL on a study database, rows as a|b|c: sqlite3's and psql -tA's format alike.
sqlite_query() { # $1 database, $2 SQL
  if command -v sqlite3 >/dev/null; then
    sqlite3 -cmd '.timeout 10000' "$1" "$2"
  else
    python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1], timeout=10).execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))' "$1" "$2"
  fi
}
PSQL=$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)
pg_query() { "$PSQL" "$1" -X -q -tA -c "$2"; } # $1 URL, $2 SQL

# Checks a finished study by its rows: trial numbers 0..N-1 each once; the trials that count
# (all but the failed ones run again) are exactly TARGET, all COMPLETE; every FAIL has exactly
# one retry, and every retry names a FAIL. Prints "no loss" or what is wrong.
CHECK_SQL="
WITH t AS (SELECT trial_id, number, CAST(state AS TEXT) AS state FROM trials JOIN studies USING (study_id)
           WHERE study_name = '%s'),
r AS (SELECT CAST(a.value_json AS INTEGER) AS failed, t.number AS retry
      FROM trial_system_attributes a JOIN t ON a.trial_id = t.trial_id WHERE a.\"key\" = 'failed_trial')
SELECT (SELECT COUNT(*) FROM t), (SELECT COUNT(DISTINCT number) FROM t), (SELECT COALESCE(MAX(number), -1) FROM t),
  (SELECT COUNT(*) FROM t WHERE number NOT IN (SELECT failed FROM r)),
  (SELECT COUNT(*) FROM t WHERE number NOT IN (SELECT failed FROM r) AND state <> 'COMPLETE'),
  (SELECT COUNT(*) FROM t WHERE state = 'COMPLETE'), (SELECT COUNT(*) FROM t WHERE state = 'FAIL'),
  (SELECT COUNT(*) FROM r), (SELECT COUNT(DISTINCT failed) FROM r),
  (SELECT COUNT(*) FROM r WHERE failed NOT IN (SELECT number FROM t WHERE state = 'FAIL'))"
check_study() { # $1 query function, $2 database, $3 study name, $4 target
  local row
  row=$("$1" "$2" "$(printf "$CHECK_SQL" "$3")")
  IFS='|' read -r rows distinct max counted open complete failed retries retried stray <<<"$row"
  local wrong=()
  [ "$distinct" = "$rows" ] || wrong+=("$((rows - distinct)) duplicated trial numbers")
  [ "$max" = "$((rows - 1))" ] || wrong+=("numbers run to $max for $rows trials")
  [ "$counted" = "$4" ] || wrong+=("$counted counted trials, not $4")
  [ "$open" = 0 ] || wrong+=("$open counted trials not COMPLETE")
  [ "$complete" = "$4" ] || wrong+=("$complete COMPLETE, not $4")
  [ "$retries" = "$retried" ] || wrong+=("$((retries - retried)) failed trials retried twice")
  [ "$failed" = "$retried" ] || wrong+=("$((failed - retried)) FAIL trials without a retry")
  [ "$stray" = 0 ] || wrong+=("$stray retries of trials that did not fail")
  STUDY_ROWS=$rows STUDY_FAILED=$failed STUDY_COMPLETE=$complete STUDY_COUNTED=$counted
  if [ ${#wrong[@]} -eq 0 ]; then VERDICT="no loss"; else VERDICT=$(IFS=';'; echo "${wrong[*]}"); fi
}

cd "$OUT"

echo
echo "== SQLite and the JSONL journal: 200 random trials of branin, --jobs 1"
printf '%-28s %9s %9s %16s\n' storage "wall s" trials/s "storage ms/trial"
for file in branin.db branin.jsonl; do
  start=$(now)
  json=$("$LATHE" search --function branin --sampler random --trials 200 --jobs 1 --storage "$file" --json 2>/dev/null)
  wall=$(minus "$(now)" "$start")
  printf '%-28s %9s %9s %16.3f\n' "$file (new)" "$wall" "$(awk -v w="$wall" 'BEGIN { printf "%.1f", 200 / w }')" \
    "$(field storage_ms_per_trial <<<"$json")"
done

echo
echo "== SQLite: a 200-trial study killed (kill -9) near trial 100, then --resume"
# exec: so that $! of `search_resume &` is lathe itself, for the kill.
search_resume() { exec "$LATHE" search --function branin --function-seconds 0.05 --sampler random --trials 200 --jobs 1 \
  --storage resume.db "$@"; }
search_resume >/dev/null 2>&1 &
pid=$!
count() { sqlite_query resume.db "SELECT COUNT(*) FROM trials WHERE $1" 2>/dev/null || echo 0; }
# Killed while trial 100 or a later one runs, so the resume has a lost trial to run again.
trial_100_running() { [ "$(count "state = 'RUNNING' AND number >= 100")" -ge 1 ]; }
poll 300 trial_100_running || { echo "the study did not reach trial 100 in 5 minutes" >&2 && exit 1; }
# (The braces keep bash's "Killed" note off the output.)
{ kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
echo "killed with $(count "state <> 'RUNNING'") trials finished, $(count "state = 'RUNNING'") running"
json=$(search_resume --resume --json 2>/dev/null)
echo "resumed: $(field new_trials <<<"$json") new trials, storage $(field storage_ms_per_trial <<<"$json" | xargs printf '%.3f') ms per trial"
check_study sqlite_query resume.db branin 200
echo "check: $STUDY_ROWS trials, $STUDY_COUNTED counted, $STUDY_COMPLETE COMPLETE, $STUDY_FAILED FAIL (retried): $VERDICT"

echo
echo "== PostgreSQL"
pgdir=$(mktemp -d /tmp/lathe-study-figures-pg.XXXXXX)
worker_pids=()
cleanup() {
  for p in "${worker_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$ROOT/scripts/postgres-server" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
port=
for p in $(seq "${PORT:-54340}" 54399); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    port=$p
    break
  fi
done
status=0
[ -n "$port" ] && url=$("$ROOT/scripts/postgres-server" start "$pgdir" "$port") || status=$?
if [ -z "$port" ] || [ "$status" = 77 ] || [ -z "$PSQL" ]; then
  echo "skipped: no PostgreSQL server to be had (no free port from ${PORT:-54340}, no PostgreSQL, or no psql)"
  exit 0
elif [ "$status" != 0 ]; then
  exit "$status"
fi
echo "server $url"

# One worker process: its own host name, so only heartbeats tell the others it died; exec, so
# that $! of `worker … &` is the worker itself, for the kill.
worker() { # $1 host, $2 study, then more options
  local host=$1 study=$2
  shift 2
  LATHE_WORKER_HOST=$host exec "$LATHE" search --worker --jobs 1 --function branin --sampler random \
    --storage "$url" --study-name "$study" "$@"
}

echo "-- throughput: 40 trials of 0.5 s, --worker --jobs 1 each"
printf '%-10s %9s %12s %16s %s\n' workers "wall s" trials/min "storage ms/trial" check
declare -A per_minute
for n in 1 4; do
  study=throughput-$n-$$
  start=$(now)
  worker_pids=()
  for i in $(seq 1 "$n"); do
    worker "tp$i" "$study" --function-seconds 0.5 --trials 40 --json >"tp-$n-$i.json" 2>/dev/null &
    worker_pids+=($!)
  done
  for p in "${worker_pids[@]}"; do wait "$p"; done
  wall=$(minus "$(now)" "$start")
  per_minute[$n]=$(awk -v w="$wall" 'BEGIN { printf "%.1f", 40 / w * 60 }')
  # Storage time over all the workers' trials.
  storage=$(cat tp-$n-*.json | python3 -c 'import json, sys
reports = [json.loads(line) for line in sys.stdin if line.strip()]
print("%.2f" % (1000 * sum(r["storage_seconds"] for r in reports) / max(sum(r["new_trials"] for r in reports), 1)))')
  check_study pg_query "$url" "$study" 40
  printf '%-10s %9s %12s %16s %s\n' "$n" "$wall" "${per_minute[$n]}" "$storage" "$VERDICT"
done
echo "4 workers / 1 worker: $(awk -v a="${per_minute[4]}" -v b="${per_minute[1]}" 'BEGIN { printf "%.2fx", a / b }')"

echo "-- failover: 3 workers, --heartbeat 1 (lost after 2 s without one), 12 trials of 3 s; kill -9 one mid-trial"
printf '%-4s %7s %14s %20s %7s %8s %9s %5s %s\n' run killed "kill->FAIL s" "kill->retry done s" trials counted COMPLETE FAIL check
running_trial() { # $1 study, $2 host: the number of the host's running trial, if any
  pg_query "$url" "SELECT t.number FROM trials t JOIN studies s USING (study_id)
    JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a.\"key\" = 'lathe:host'
    WHERE s.study_name = '$1' AND CAST(t.state AS TEXT) = 'RUNNING' AND a.value_json = '\"$2\"'"
}
state_of() { # $1 study, $2 number
  pg_query "$url" "SELECT CAST(state AS TEXT) FROM trials JOIN studies USING (study_id)
    WHERE study_name = '$1' AND number = $2"
}
retry_state() { # $1 study, $2 failed number: the state of its retry, if any
  pg_query "$url" "SELECT CAST(t.state AS TEXT) FROM trials t JOIN studies s USING (study_id)
    JOIN trial_system_attributes a ON a.trial_id = t.trial_id AND a.\"key\" = 'failed_trial'
    WHERE s.study_name = '$1' AND a.value_json = '$2'"
}
victim_running() { killed=$(running_trial "$1" fo-victim 2>/dev/null) && [ -n "$killed" ]; }
failed() { [ "$(state_of "$1" "$2")" = FAIL ]; }
retried() { [ "$(retry_state "$1" "$2")" = COMPLETE ]; }
for run in 1 2 3; do
  study=failover-$run-$$
  worker_pids=()
  for host in fo-victim fo-a fo-b; do
    worker "$host" "$study" --heartbeat 1 --function-seconds 3 --trials 12 >"$study-$host.log" 2>&1 &
    worker_pids+=($!)
  done
  victim=${worker_pids[0]}
  poll 60 victim_running "$study" || { echo "the victim worker started no trial within 60 s" >&2 && exit 1; }
  # Part way into its 3-second trial, so the kill lands inside it.
  sleep 1
  kill -9 "$victim"
  killed_at=$(now)
  { wait "$victim"; } 2>/dev/null || true
  [ "$(state_of "$study" "$killed")" = RUNNING ] || echo "warning: trial $killed was not running at the kill" >&2
  to_fail=never to_retry=never
  if poll 60 failed "$study" "$killed"; then
    to_fail=$(minus "$(now)" "$killed_at" 1)
    poll 60 retried "$study" "$killed" && to_retry=$(minus "$(now)" "$killed_at" 1)
  fi
  for p in "${worker_pids[@]:1}"; do wait "$p" || echo "warning: a worker of $study exited with $?" >&2; done
  check_study pg_query "$url" "$study" 12
  printf '%-4s %7s %14s %20s %7s %8s %9s %5s %s\n' "$run" "#$killed" "$to_fail" "$to_retry" "$STUDY_ROWS" \
    "$STUDY_COUNTED" "$STUDY_COMPLETE" "$STUDY_FAILED" "$VERDICT"
done
