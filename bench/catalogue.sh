#!/usr/bin/env bash
# Catalogue search benchmark (bench/catalogue: the node over HTTP against
# PostgreSQL full-text search), quiet or under a fixed CPU load that both
# sides of the run share.
#
#   bench/catalogue.sh quiet  [bench/catalogue flags...]
#   bench/catalogue.sh loaded [bench/catalogue flags...]
#
# The benchmark is built at nice 19 and runs at normal priority. "loaded"
# starts BURNERS busy-loop processes at nice 0 beside it (default 2, one
# per core of the reference machine) and stops them, by PID, when the
# benchmark ends; the node, PostgreSQL and the load generator all run
# under them. The run is bounded by BENCH_TIMEOUT.
# Default flags: what `make bench` runs, -bin bin/difronte -postgres
# -pairs 2 -pg-limit 30s (250 queries per client and kind); the same loads
# then run against the machine's floor (bench/catalogue/floor.go), a
# server that only spends the node's CPU per answer, under the same load.
set -euo pipefail
mode=${1:-quiet}
shift || true
case $mode in quiet | loaded) ;; *)
	echo "usage: $0 quiet|loaded [bench/catalogue flags]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/.."
out=${BENCHOUT:-bench/out}
mkdir -p "$out"
bin=$(realpath -m "$out")/catalogue-bench
nice -n 19 "${GO:-go}" build -o "$bin" ./bench/catalogue
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(-bin "${BIN:-bin/difronte}" -postgres -pairs 2 -pg-limit 30s)

# shellcheck source=bench/burners.sh
. bench/burners.sh
echo "# catalogue benchmark, $mode, burners ${#burner_pids[@]}, $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
timeout "${BENCH_TIMEOUT:-60m}" "$bin" "${flags[@]}"
