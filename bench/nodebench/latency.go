package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

var routeOrder = []string{"GET /api/v1/beneficiaries?limit=50", "GET /api/v1/offerings?limit=50", "GET /api/v1/beneficiaries/{id}"}

type lat struct{ p50, p99 time.Duration }

// latencies logs in and times the three routes; it returns the p50/p99 of
// each and the size of each answer.
func (b *bench) latencies(url string) (map[string]lat, map[string]int, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.clients}}
	defer c.CloseIdleConnections()
	raw, _ := json.Marshal(map[string]string{"username": "admin", "password": password})
	resp, err := c.Post(url+"/api/v1/login", "application/json", bytes.NewReader(raw))
	if err != nil {
		return nil, nil, err
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		return nil, nil, fmt.Errorf("login failed: %s", resp.Status)
	}
	get := func(path string) ([]byte, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return body, err
	}
	body, err := get("/api/v1/beneficiaries?limit=500")
	if err != nil {
		return nil, nil, err
	}
	var page struct{ Items []struct{ ID string } }
	json.Unmarshal(body, &page)
	if len(page.Items) == 0 {
		return nil, nil, errors.New("no beneficiaries loaded")
	}
	paths := map[string]func(i int) string{
		routeOrder[0]: func(i int) string {
			return fmt.Sprintf("/api/v1/beneficiaries?limit=50&offset=%d", (i*50)%max(1, b.nBen-50))
		},
		routeOrder[1]: func(i int) string {
			return fmt.Sprintf("/api/v1/offerings?limit=50&offset=%d", (i*50)%max(1, b.nOff-50))
		},
		routeOrder[2]: func(i int) string { return "/api/v1/beneficiaries/" + page.Items[i%len(page.Items)].ID },
	}
	out, sizes := map[string]lat{}, map[string]int{}
	for _, name := range routeOrder {
		body, err := get(paths[name](0))
		if err != nil {
			return nil, nil, err
		}
		sizes[name] = len(body)
		l, err := measure(b.clients, b.requests, func(i int) error { _, err := get(paths[name](i)); return err })
		if err != nil {
			return nil, nil, err
		}
		out[name] = l
	}
	return out, sizes, nil
}

// latencyOnly times the routes of a running node and the baseline, and
// prints both: the quick loop for working on the API's latency.
func (b *bench) latencyOnly(url string) error {
	nodeLat, sizes, err := b.latencies(url)
	if err != nil {
		return err
	}
	baseLat, err := b.baseline(sizes)
	if err != nil {
		return err
	}
	for _, name := range routeOrder {
		n, base := nodeLat[name], baseLat[name]
		fmt.Printf("%s (%d B): p50 %s p99 %s; baseline p50 %s p99 %s\n", name, sizes[name], ms(n.p50), ms(n.p99), ms(base.p50), ms(base.p99))
	}
	return nil
}

// baseline serves fixed bodies of the same sizes from a plain handler.
func (b *bench) baseline(sizes map[string]int) (map[string]lat, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for i, name := range routeOrder {
		body := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), max(0, sizes[name]-9))...)
		body = append(body, "\"}\n"...)
		mux.HandleFunc(fmt.Sprintf("/r%d", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: b.clients}}
	defer c.CloseIdleConnections()
	out := map[string]lat{}
	for i, name := range routeOrder {
		u := fmt.Sprintf("http://%s/r%d", ln.Addr(), i)
		l, err := measure(b.clients, b.requests, func(int) error {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		})
		if err != nil {
			return nil, err
		}
		out[name] = l
	}
	return out, nil
}

// measure runs n requests from k clients after a short warm-up and returns
// the median and 99th percentile.
func measure(k, n int, do func(i int) error) (lat, error) {
	for i := range min(n/10, 100) {
		if err := do(i); err != nil {
			return lat{}, err
		}
	}
	var mu sync.Mutex
	var ds []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	per := n / k
	for c := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, per)
			for i := range per {
				t0 := time.Now()
				if err := do(c*per + i); err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			ds = append(ds, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return lat{}, firstErr
	}
	slices.Sort(ds)
	return lat{p50: ds[len(ds)/2], p99: ds[len(ds)*99/100]}, nil
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
