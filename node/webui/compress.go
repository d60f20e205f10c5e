package webui

import (
	"bytes"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Compression, for citizens and proximity points on slow lines: the
// static files are gzipped once, when the node starts, and pages seen
// without an account (the catalogue, the login page) are gzipped as they
// are sent. A signed-in user's page is not: it holds
// private records beside text the user typed (a search, a form sent
// back), which is what a BREACH-style attacker, able to make the
// browser ask and to see the size of the encrypted answer, needs to guess
// a record byte by byte. A page without an account holds no private
// record but behind a link's secret token (an alert's acknowledgement),
// which another site cannot make the browser ask for without knowing it,
// and what an anonymous form sends back cannot be chosen by another site
// either (the server refuses cross-origin posts). The JSON API is not compressed either: its
// clients are programs, and on the node's hot search route compressing
// cost more CPU than it saved (docs/BENCHMARKS.md, issue 18).

// minGzip is the smallest body worth compressing: below it the gzip
// header and trailer eat most of the gain, and the answer fits one TCP
// segment either way.
const minGzip = 1024

// acceptsGzip reports whether an Accept-Encoding value lets the answer be
// gzipped (RFC 9110 §12.5.3): "gzip" (or "x-gzip") with a weight above
// zero, or failing any mention of it, "*" with one. An unreadable weight
// counts as zero.
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if name == "*" {
			star = max(star, q)
		} else {
			gz = max(gz, q)
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// addVary adds Accept-Encoding to the answer's Vary header.
func addVary(h http.Header) {
	if v := h.Get("Vary"); v != "" {
		h.Set("Vary", v+", Accept-Encoding")
		return
	}
	h.Set("Vary", "Accept-Encoding")
}

// gzipWriters reuses compressors: a gzip.Writer holds about 1 MB of state
// at BestSpeed, too much to make for each page.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return w
}}

// gzipBytes compresses b at level into a new slice.
func gzipBytes(b []byte, level int) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 3)
	var w *gzip.Writer
	if level == gzip.BestSpeed {
		w = gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(w)
		w.Reset(&out)
	} else {
		w, _ = gzip.NewWriterLevel(&out, level) // callers pass a valid level
	}
	_, _ = w.Write(b) // a bytes.Buffer does not fail
	_ = w.Close()
	return out.Bytes()
}

// writeBody writes a whole body, gzipped when the request accepts it, the
// body is worth it and compress allows it. The caller has set the other
// headers; the status is written here.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte, compress bool) {
	h := w.Header()
	if compress {
		addVary(h)
	}
	if compress && len(body) >= minGzip && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = gzipBytes(body, gzip.BestSpeed)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// compressible reports whether a static file's type gains from gzip
// (text, not an already compressed image or font).
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".css", ".js", ".svg", ".json", ".html", ".txt", ".map":
		return true
	}
	return false
}

// gzipFiles compresses, once, every compressible file of fsys that gzip
// makes at least a tenth smaller, keyed by its path.
func gzipFiles(fsys fs.FS) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible(name) {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if len(b) < minGzip {
			return nil
		}
		if gz := gzipBytes(b, gzip.BestCompression); len(gz) <= len(b)*9/10 {
			out[name] = gz
		}
		return nil
	})
	return out, err
}

// serveGzipped answers a GET or HEAD for a static file with its gzipped
// copy when there is one and the request takes it; false if it did not
// answer. A range request gets the file itself (its ranges are of those
// bytes).
func serveGzipped(w http.ResponseWriter, r *http.Request, name string, gz map[string][]byte) bool {
	if !compressible(name) {
		return false
	}
	addVary(w.Header())
	b, ok := gz[name]
	if !ok || r.Header.Get("Range") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return false
	}
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Content-Encoding", "gzip")
	writeBody(w, r, http.StatusOK, b, false)
	return true
}
