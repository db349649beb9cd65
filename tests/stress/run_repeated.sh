#!/usr/bin/env bash
# Run one test N times in a row while this script keeps every core busy, then stop the load.
#
# Why: the checkout e2e failed one run in a few on a busy 2-core machine (issue 20). A fix is
# only believable when the test passes many times under that kind of load, so the load is part
# of the proof and is started (and always stopped) here, bounded by STRESS_SECONDS.
#
# Usage: tests/stress/run_repeated.sh [RUNS] [TEST_NODE]
#   RUNS            default 50
#   TEST_NODE       default tests/billing/test_checkout_e2e.py::test_checkout_creates_and_provisions_the_tenant
#   STRESS_SECONDS  hard cap for the load processes (default 1800); they also stop when this exits
#   STRESS_WORKERS  busy processes to start (default: number of cores)
set -uo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-50}"
NODE="${2:-tests/billing/test_checkout_e2e.py::test_checkout_creates_and_provisions_the_tenant}"
STRESS_SECONDS="${STRESS_SECONDS:-1800}"
WORKERS="${STRESS_WORKERS:-$(nproc)}"
PY="${PYTHON:-.venv/bin/python}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

pids=()
current=""
stop_load() {
  [ -n "$current" ] && kill "$current" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_load EXIT
trap 'exit 130' INT TERM

for _ in $(seq "$WORKERS"); do
  # A pure-CPU spinner, killed by `timeout` even if this script is killed with SIGKILL.
  timeout "$STRESS_SECONDS" "$PY" -c 'while True: pass' &
  pids+=("$!")
done
echo "load: ${WORKERS} busy processes (pids ${pids[*]}), at most ${STRESS_SECONDS}s"

passed=0
failed=0
start=$(date +%s)
for i in $(seq "$RUNS"); do
  # In the background + wait, so a signal reaches the trap at once and stops the load.
  "$PY" -m pytest "$NODE" -q -p no:cacheprovider >"/tmp/run_repeated.$$.log" 2>&1 &
  current=$!
  wait "$current"
  code=$?
  current=""
  if [ "$code" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $i/$RUNS: passed"
  else
    failed=$((failed + 1))
    echo "run $i/$RUNS: FAILED"
    tail -40 "/tmp/run_repeated.$$.log"
  fi
done
rm -f "/tmp/run_repeated.$$.log"
echo "result: ${passed} passed, ${failed} failed of ${RUNS} runs in $(( $(date +%s) - start ))s under load"
[ "$failed" -eq 0 ]
