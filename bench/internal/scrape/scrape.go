// Package scrape reads one value from a node's /metrics, for the
// benchmark commands under bench/.
package scrape

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metric returns the value of the unlabelled series name on base's
// /metrics, and false when the node cannot be read or has no such series.
func Metric(base, name string) (float64, bool) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}
