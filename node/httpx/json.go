package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// MaxBody is the largest request body the JSON API reads, unless a domain
// sets a smaller limit for its own routes.
const MaxBody = 1 << 20

// DecodeJSON reads one JSON value from the body strictly: Content-Type
// checked, at most limit bytes (413 past it), unknown fields refused, no
// trailing data, and the text readable one way only (schema.CheckJSONText:
// valid UTF-8, no member twice, no lone surrogate), where Go's decoder
// alone would store U+FFFD or keep the last of two members. Every JSON
// handler of the node reads its body with it.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decode(b, v)
}

// NoBody is DecodeJSON for an endpoint that takes no body: it accepts
// none, or an empty object, and refuses anything else.
func NoBody(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r, 1<<10)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	return decode(b, &struct{}{})
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, problem.BadRequest("bad_json", "body could not be read", err)
	}
	return b, nil
}

func decode(b []byte, v any) error {
	if !utf8.Valid(b) { // before decoding, which would read U+FFFD
		return problem.BadRequest("bad_json", "body is not valid UTF-8", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
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
	if err := schema.CheckJSONText(b); err != nil {
		return problem.BadRequest("bad_json", strings.TrimPrefix(err.Error(), schema.ErrBody.Error()+": "), err)
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
