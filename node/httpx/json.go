package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/difronte/difronte/node/problem"
)

// MaxBody is the largest request body the JSON API reads, unless a domain
// sets a smaller limit for its own routes.
const MaxBody = 1 << 20

// DecodeJSON reads one JSON value from the body strictly: Content-Type
// checked, at most limit bytes (413 past it), unknown fields refused, no
// trailing data. Every JSON handler of the node reads its body with it.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return tooLarge(limit)
		case errors.As(err, &ute):
			return problem.BadRequest("bad_json", fmt.Sprintf("field %q has the wrong type: want %s", ute.Field, ute.Type), err)
		case errors.As(err, &se):
			return problem.BadRequest("bad_json", fmt.Sprintf("malformed JSON at byte %d", se.Offset), err)
		case errors.Is(err, io.EOF):
			return problem.BadRequest("bad_json", "empty body", err)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return problem.BadRequest("unknown_field", strings.TrimPrefix(err.Error(), "json: "), err)
		default:
			return problem.BadRequest("bad_json", "malformed JSON", err)
		}
	}
	if dec.More() {
		return problem.BadRequest("bad_json", "trailing data after the JSON value", nil)
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
	}
	return nil
}

func tooLarge(limit int64) error {
	return problem.New(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", limit))
}

// jsonAppender is an answer that encodes itself (store.RawPage: records'
// kept encodings), written as is instead of through reflection.
type jsonAppender interface{ AppendJSON([]byte) []byte }

var answerBufs = sync.Pool{New: func() any { return new([]byte) }}

// WriteJSON writes v as a JSON answer that is never cached.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if a, ok := v.(jsonAppender); ok {
		bp := answerBufs.Get().(*[]byte)
		b := append(a.AppendJSON((*bp)[:0]), '\n')
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(code)
		_, _ = w.Write(b)
		if cap(b) <= 1<<20 { // do not keep a rare huge answer's buffer
			*bp = b
			answerBufs.Put(bp)
		}
		return
	}
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// ErrorBody is the JSON body of every API error.
type ErrorBody struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields,omitempty"`
}

// WriteError answers err as the error body with its problem's status; a
// server error is logged with its internal cause, never shown.
func WriteError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	p := problem.As(err)
	if p.Status >= 500 && log != nil {
		log.Error("request failed", "component", "http", "method", r.Method, "err", err)
	}
	WriteJSON(w, p.Status, ErrorBody{Error: p.Message, Code: p.Code, Fields: p.Fields})
}
