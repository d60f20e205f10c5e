# Sourced by bench/gossip.sh and bench/catalogue.sh: in "loaded" mode, start
# BURNERS busy-loop processes at nice 0 (default 2, one per core of the
# reference machine), each bounded by BENCH_TIMEOUT in case the script is
# killed, and stop them by PID when the script exits. Sets burner_pids.
burner_pids=()
stop_burners() {
	for p in "${burner_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${burner_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_burners EXIT
if [ "$mode" = loaded ]; then
	for _ in $(seq "${BURNERS:-2}"); do
		timeout "${BENCH_TIMEOUT:-60m}" bash -c 'while :; do :; done' &
		burner_pids+=($!)
	done
fi
