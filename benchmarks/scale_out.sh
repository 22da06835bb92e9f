#!/bin/sh
# The scale-out deployment under field load, twice: gunicorn with several workers, the scheduler
# as its own process (xuncha scheduler), PostgreSQL, media on the filesystem; the patrol simulator
# with 50 phones for 5 minutes against it, then the same again with one worker SIGKILLed halfway.
# benchmarks/patrol_bench.py does the work; this only runs it the two ways and keeps each run's
# figures (its last line, one JSON object) in $OUT. See docs/operations.md, "Scale-out run".
#
#   benchmarks/scale_out.sh
#   WORKERS=8 DEVICES=100 MINUTES=10 POSTGRES=postgresql://postgres@db:5432 benchmarks/scale_out.sh
#   DEVICES=4 MINUTES=0.25 benchmarks/scale_out.sh      # a short check that the setup works
set -eu

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(test -x .venv/bin/python && echo .venv/bin/python || command -v python3)}
WORKERS=${WORKERS:-4}
DEVICES=${DEVICES:-50}
MINUTES=${MINUTES:-5}
POSTGRES=${POSTGRES:-${XUNCHA_CI_POSTGRES:-postgresql://postgres@127.0.0.1:5432}}
OUT=${OUT:-scale-out-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

status=0
for run in steady kill-worker; do
    extra=""
    [ "$run" = kill-worker ] && extra="--kill-worker"
    echo "== $run: $WORKERS workers, $DEVICES phones for $MINUTES min" >&2
    # shellcheck disable=SC2086  # $extra is one flag or nothing
    # Not a pipe into tee: the run's own exit status is what tells (sh has no pipefail).
    if PYTHONPATH=. "$PYTHON" benchmarks/patrol_bench.py --postgres "$POSTGRES" --workers "$WORKERS" \
            --devices "$DEVICES" --minutes "$MINUTES" $extra >"$OUT/$run.json" 2>"$OUT/$run.log"; then
        cat "$OUT/$run.json"
    else
        cat "$OUT/$run.json"
        echo "== $run: something was lost, duplicated or diverged; see $OUT/$run.log" >&2
        status=1
    fi
done
exit $status
