# Paired comparison of the tuned router with stock over BenchmarkPublishLatency
# runs (bench/gossip.sh output), per topology: each round of a run pairs
# tuned with the stock federation that ran right after it, under the same
# load. For p99 and p99 to all it prints the rounds in which tuned was no
# worse, the median and quartiles of tuned − stock, and the two-sided sign
# test's p-value (how likely so uneven a split is if neither variant were
# better). Several files pool their rounds, each paired within its file:
#
#	awk -f bench/gossip-pairs.awk bench/out/gossip-loaded.txt [more runs...]
function sorted(s, a,   n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n
}
function quantile(a, n, q,   i) {
	i = int(q * (n - 1)) + 1
	return a[i]
}
function median(a, n) { return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
# signp is the two-sided sign test's p-value for k successes in n trials.
function signp(k, n,   c, i, lo, p) {
	if (n == 0) return 1
	lo = (k < n - k) ? k : n - k
	c = 1; p = 0
	for (i = 0; i <= lo; i++) { p += c; c = c * (n - i) / (i + 1) }
	p = 2 * p / 2 ^ n
	return p > 1 ? 1 : p
}
/^BenchmarkPublishLatency\// {
	split($1, p, "/"); topo = p[2]; v = p[3]
	round = 0
	if (match(v, /#[0-9]+/)) round = substr(v, RSTART + 1, RLENGTH - 1) + 0
	sub(/-[0-9]+$/, "", v); sub(/#[0-9]+$/, "", v)
	if (v != "tuned" && v != "stock") next
	if (!(topo in seen)) { order[++nt] = topo; seen[topo] = 1 }
	key = FILENAME SUBSEP topo SUBSEP round
	for (i = 3; i < NF; i += 2) val[key, v, $(i+1)] = $i
	has[key, v] = 1
	if (has[key, "tuned"] && has[key, "stock"] && !(key in done)) {
		done[key] = 1
		for (m = 1; m <= 2; m++) {
			metric = m == 1 ? "p99_ms" : "all_p99_ms"
			d = val[key, "tuned", metric] - val[key, "stock", metric]
			diffs[topo, metric] = diffs[topo, metric] " " d
			pairs[topo, metric]++
			if (d <= 0) nowork[topo, metric]++
		}
	}
}
END {
	print "| topology | metric | pairs | tuned no worse | median of tuned − stock | quartiles | sign test p |"
	print "|---|---|---|---|---|---|---|"
	for (t = 1; t <= nt; t++) {
		for (m = 1; m <= 2; m++) {
			metric = m == 1 ? "p99_ms" : "all_p99_ms"
			n = sorted(diffs[order[t], metric], a)
			if (n == 0) continue
			k = nowork[order[t], metric] + 0
			printf "| %s | %s | %d | %d | %+.2f ms | %+.2f … %+.2f ms | %.2f |\n", order[t], metric == "p99_ms" ? "p99" : "p99 to all", n, k, median(a, n), quantile(a, n, 0.25), quantile(a, n, 0.75), signp(k, n)
		}
	}
}
