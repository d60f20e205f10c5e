# Medians of BenchmarkPublishLatency runs (bench/gossip.sh output), per
# topology and router variant: awk -f bench/gossip-medians.awk bench/out/gossip.txt
function median(key, m,   n, i, j, t, a) {
	n = split(vals[key, m], a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	if (n == 0) return "-"
	return sprintf("%.2f", (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2)
}
/--- FAIL: BenchmarkPublishLatency\/.*\// {
	f = $0; sub(/.*--- FAIL: /, "", f); split(f, p, "/"); v = p[3]
	sub(/[ \t].*$/, "", v); sub(/-[0-9]+$/, "", v); sub(/#[0-9]+$/, "", v)
	key = p[2] "/" v
	if (!(key in runs)) { order[++nk] = key; runs[key] = 0 }
	fails[key]++
	next
}
/^BenchmarkPublishLatency\// {
	split($1, p, "/"); topo = p[2]; v = p[3]
	sub(/-[0-9]+$/, "", v); sub(/#[0-9]+$/, "", v)
	key = topo "/" v
	if (!(key in runs)) order[++nk] = key
	runs[key]++
	for (i = 3; i < NF; i += 2) vals[key, $(i+1)] = vals[key, $(i+1)] " " $i
}
END {
	print "| topology / variant | runs | failed | p50 ms | p99 ms | p99 to all ms | sends ÷ (n−1) | IWANT ids ÷ (n−1) | delivered % |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (k = 1; k <= nk; k++) {
		key = order[k]
		printf "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", key, runs[key], fails[key] + 0, median(key, "p50_ms"), median(key, "p99_ms"), median(key, "all_p99_ms"), median(key, "sends/min"), median(key, "iwant/min"), median(key, "delivered_%")
	}
}
