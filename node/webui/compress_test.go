package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/difronte/difronte/web"
)

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"gzip":                    true,
		"gzip, deflate, br, zstd": true,
		"GZIP":                    true,
		"x-gzip":                  true,
		"br;q=1.0, gzip;q=0.8":    true,
		"gzip;q=0.001":            true,
		" gzip ; q = 0.5 ":        true,
		"*":                       true,
		"identity, *;q=0.5":       true,
		"":                        false,
		"identity":                false,
		"br, deflate":             false,
		"gzip;q=0":                false,
		"gzip;q=0.000":            false,
		"*;q=0":                   false,
		"*, gzip;q=0":             false, // the explicit refusal wins over *
		"gzip;q=0, *":             false,
		"gzip;q=abc":              false, // an unreadable weight is zero
		"gzip;q=2":                false, // out of range
		"gzip;q=-1":               false,
		"gzipx, xgzip":            false,
		"gzip;q=0, gzip":          true, // the best weight of a repeated coding
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStaticGzip: a text file gzip shrinks is sent gzipped, with its own
// type, length and Vary, to a request that takes gzip, and as itself to
// any other (no gzip, refused, a range); small, incompressible and binary
// files are always sent as themselves, and a HEAD gets the headers only.
func TestStaticGzip(t *testing.T) {
	css := []byte(strings.Repeat(".card { margin: 0 auto; padding: 1rem; }\n", 100))
	noise := make([]byte, 4096)
	_, _ = rand.Read(noise)
	fsys := fstest.MapFS{
		"app.css":   {Data: css},
		"small.js":  {Data: []byte("console.log(1)\n")},
		"random.js": {Data: noise},
		"photo.png": {Data: css}, // compressible bytes, but not a text type
	}
	h, err := staticFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, name string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/static/"+name, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := do(http.MethodGet, "app.css", "Accept-Encoding", "gzip, deflate, br")
	if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("app.css with gzip: %d, Content-Encoding %q", w.Code, w.Header().Get("Content-Encoding"))
	}
	if got := gunzip(t, w.Body.Bytes()); !bytes.Equal(got, css) {
		t.Fatal("app.css: the gzipped body is not the file")
	}
	if w.Body.Len() >= len(css)/4 {
		t.Errorf("app.css: %d bytes gzipped of %d", w.Body.Len(), len(css))
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
		t.Errorf("app.css: Content-Length %s for %d bytes", cl, w.Body.Len())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css: Content-Type %q", ct)
	}
	if v := w.Header().Get("Vary"); v != "Accept-Encoding" {
		t.Errorf("app.css: Vary %q", v)
	}

	head := do(http.MethodHead, "app.css", "Accept-Encoding", "gzip")
	if head.Header().Get("Content-Encoding") != "gzip" || head.Body.Len() != 0 || head.Header().Get("Content-Length") != w.Header().Get("Content-Length") {
		t.Errorf("HEAD app.css: encoding %q, %d body bytes, length %s", head.Header().Get("Content-Encoding"), head.Body.Len(), head.Header().Get("Content-Length"))
	}

	for _, hdr := range [][]string{
		nil,
		{"Accept-Encoding", "gzip;q=0, br"},
		{"Accept-Encoding", "identity"},
	} {
		w := do(http.MethodGet, "app.css", hdr...)
		if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), css) {
			t.Errorf("app.css with %q: %d, encoding %q, %d bytes", hdr, w.Code, w.Header().Get("Content-Encoding"), w.Body.Len())
		}
		if v := w.Header().Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("app.css with %q: Vary %q, want Accept-Encoding (a cache must not hand it to a gzip client)", hdr, v)
		}
	}

	rg := do(http.MethodGet, "app.css", "Accept-Encoding", "gzip", "Range", "bytes=0-5")
	if rg.Code != http.StatusPartialContent || rg.Header().Get("Content-Encoding") != "" || rg.Body.String() != string(css[:6]) {
		t.Errorf("range of app.css: %d, encoding %q, %q", rg.Code, rg.Header().Get("Content-Encoding"), rg.Body.String())
	}

	for name, data := range map[string][]byte{"small.js": fsys["small.js"].Data, "random.js": noise, "photo.png": css} {
		w := do(http.MethodGet, name, "Accept-Encoding", "gzip")
		if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), data) {
			t.Errorf("%s: %d, encoding %q, %d bytes", name, w.Code, w.Header().Get("Content-Encoding"), w.Body.Len())
		}
	}
	if w := do(http.MethodGet, "missing.css", "Accept-Encoding", "gzip"); w.Code != http.StatusNotFound {
		t.Errorf("missing.css: %d", w.Code)
	}
}

// TestEmbeddedStaticGzipped: the node's own style sheet and scripts are
// among what is gzipped at start.
func TestEmbeddedStaticGzipped(t *testing.T) {
	gz, err := gzipFiles(web.Static())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.css", "calls.css", "calls-terminal.js", "calls-agenda.js"} {
		b, ok := gz[name]
		if !ok {
			t.Errorf("%s is not gzipped", name)
			continue
		}
		orig, _ := web.Static().Open(name)
		st, _ := orig.Stat()
		orig.Close()
		t.Logf("%s: %d bytes, %d gzipped", name, st.Size(), len(b))
	}
}

// rawClient is a browser that says it takes gzip and keeps what it gets
// as sent (Go's client otherwise asks for gzip and unpacks it unseen),
// with c's cookies.
func rawClient(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, Transport: &http.Transport{DisableCompression: true}, CheckRedirect: c.CheckRedirect}
}

func (e *env) getGzip(c *http.Client, path string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	res, err := rawClient(c).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestPagesGzipOnlyWithoutAccount: a page seen without an account is
// gzipped for a browser that takes it, and unpacks to the very page sent
// to one that does not; a signed-in user's page, which holds private
// records, never is.
func TestPagesGzipOnlyWithoutAccount(t *testing.T) {
	e := newEnv(t)
	anon := e.client()
	for path, status := range map[string]int{"/login": http.StatusOK, "/login?next=%2Fbeneficiaries": http.StatusOK, "/no-such-page": http.StatusNotFound} {
		res, b := e.getGzip(anon, path)
		if res.StatusCode != status || res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: %d, Content-Encoding %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		if v := res.Header.Get("Vary"); !strings.Contains(v, "Accept-Encoding") || !strings.Contains(v, "Cookie") {
			t.Errorf("%s: Vary %q", path, v)
		}
		page := gunzip(t, b)
		_, plain := e.get(rawClient(anon), path) // no Accept-Encoding at all
		if string(page) != plain {
			t.Errorf("%s: the gzipped page differs from the plain one", path)
		}
		checkPage(t, path, string(page))
		t.Logf("%s: %d bytes, %d gzipped", path, len(plain), len(b))
	}

	admin := e.login("admin")
	for _, path := range []string{"/", "/beneficiaries", "/beneficiaries/" + e.ben, "/caregivers"} {
		res, b := e.getGzip(admin, path)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s signed in: %d, Content-Encoding %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
			continue
		}
		checkPage(t, path, string(b))
	}
}
