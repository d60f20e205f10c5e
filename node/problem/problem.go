// Package problem is the node's one error type for things a user may be told:
// an HTTP status, a stable code, a safe message, field errors for forms, and
// the internal cause that is logged but never shown.
package problem

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Error is an error with a part that is safe to show.
type Error struct {
	Status  int               // HTTP status
	Code    string            // stable machine code, e.g. "not_found"; also the message-catalogue key
	Message string            // safe English text for API clients
	Fields  map[string]string // field name -> error code, for forms
	Err     error             // internal cause, never shown
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		b.WriteString(": ")
		for i, k := range slices.Sorted(maps.Keys(e.Fields)) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match two problems by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels to compare with errors.Is.
var (
	ErrNotFound     = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	ErrForbidden    = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your role does not allow this"}
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "log in first"}
	ErrInvalid      = &Error{Status: http.StatusBadRequest, Code: "invalid", Message: "some fields are not valid"}
)

// Invalid returns a validation problem listing the bad fields, or nil when
// fields is empty.
func Invalid(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid", Message: "some fields are not valid", Fields: fields}
}

// BadRequest is a request the server cannot read.
func BadRequest(code, msg string, cause error) error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg, Err: cause}
}

// New builds a problem with any status.
func New(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// As returns the problem inside err, or a 500 that hides err.
func As(err error) *Error {
	var p *Error
	if errors.As(err, &p) {
		return p
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
}
