#!/usr/bin/env bash
# Gossip latency benchmark (testnet BenchmarkPublishLatency), quiet or under
# a fixed CPU load that is the same for every router variant of the run.
#
#   bench/gossip.sh quiet  [test flags...]
#   bench/gossip.sh loaded [test flags...]
#
# The test binary is built at nice 19; the benchmark itself runs at normal
# priority. "loaded" starts BURNERS busy-loop processes at nice 0 beside it
# (default 2, one per core of the reference machine) and stops them, by
# PID, when the benchmark ends. The run is bounded by BENCH_TIMEOUT.
# Default flags: 10 alternating pairs (-gossip.rounds 10) of 30 publishes
# per topology; the variants alternate within each count (tuned, stock,
# ...). Five pairs (until session 19) left the medians of a loaded run to
# one or two rounds: N=10's p99 to every node went from ahead of stock's to
# behind it between two runs of the same code (docs/BENCHMARKS.md, issue 20).
# "tuned" is the federation's router (topics.TunedFor the topology). One
# loaded run of five pairs took 139-274 s on the shared 2-core machine
# (issue 20).
set -euo pipefail
mode=${1:-quiet}
shift || true
case $mode in quiet | loaded) ;; *)
	echo "usage: $0 quiet|loaded [test flags]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/.."
out=${BENCHOUT:-bench/out}
mkdir -p "$out"
bin=$(realpath -m "$out")/testnet.test
nice -n 19 "${GO:-go}" test -c -o "$bin" ./testnet/
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(-test.benchtime 30x -gossip.rounds 10)

# shellcheck source=bench/burners.sh
. bench/burners.sh
cd testnet
echo "# gossip benchmark, $mode, burners ${#burner_pids[@]}, $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
timeout "${BENCH_TIMEOUT:-60m}" "$bin" -test.run '^$' -test.bench BenchmarkPublishLatency -test.timeout "${BENCH_TIMEOUT:-60m}" "${flags[@]}"
