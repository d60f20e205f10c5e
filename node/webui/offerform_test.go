package webui

import (
	"errors"
	"html/template"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/requests"
)

// offerFaults: the refusals of an offer form that belong to one field are
// found before the service is asked: a price that is not an amount from
// zero (a free service, as the service allows) to requests.MaxPrice, a unit, start or validity left empty, a date that is no date. A
// good form has none and its price read with a decimal comma.
func TestOfferFaults(t *testing.T) {
	good := url.Values{"price": {"9,50"}, "unit": {"pasto"}, "start": {"2026-12-21"}, "valid_until": {"2026-12-31"}}
	if price, bad := offerFaults(good); len(bad) != 0 || price != 9.5 {
		t.Fatalf("a good offer: %v %v", price, bad)
	}
	free := url.Values{"price": {"0"}, "unit": {"pasto"}, "start": {"2026-12-21"}, "valid_until": {"2026-12-31"}}
	if price, bad := offerFaults(free); len(bad) != 0 || price != 0 {
		t.Fatalf("a free service's offer: %v %v", price, bad)
	}
	for _, tc := range []struct {
		field, value, want string
	}{
		{"price", "-3", "bad_amount"},
		{"price", "10000000,01", "bad_amount"},
		{"price", "nove", "bad_amount"},
		{"price", "NaN", "bad_amount"},
		{"price", "", "bad_amount"},
		{"unit", "  ", "required"},
		{"start", "", "required"},
		{"valid_until", "", "required"},
	} {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Set(tc.field, tc.value)
		if _, bad := offerFaults(f); len(bad) != 1 || bad[tc.field] != tc.want {
			t.Errorf("%s %q: %v, want %s", tc.field, tc.value, bad, tc.want)
		}
	}
}

// offerRefusal: the service's 400 naming the form's fields becomes their
// errors (a validity in the past as such); a refusal naming another field,
// or that is no 400, is not the form's.
func TestOfferRefusal(t *testing.T) {
	if bad := offerRefusal(problem.Invalid(map[string]string{"valid_until": "in_the_past"})); bad["valid_until"] != "in_the_past" || len(bad) != 1 {
		t.Errorf("validity in the past: %v", bad)
	}
	if bad := offerRefusal(problem.Invalid(map[string]string{"conditions": "invalid"})); bad["conditions"] != "invalid" {
		t.Errorf("conditions: %v", bad)
	}
	for _, err := range []error{nil, problem.Invalid(map[string]string{"reason": "invalid"}), problem.ErrNotFound, errors.New("disk")} {
		if bad := offerRefusal(err); bad != nil {
			t.Errorf("%v taken as the form's: %v", err, bad)
		}
	}
}

// The refused offer form marks each refused field invalid, described by
// its message (in the catalogues, both languages); the other request's
// form stays blank and unmarked.
func TestOfferFormMarksItsFields(t *testing.T) {
	c, pages := cataloguesAndPages(t)
	open := func(id string) requests.Request { return requests.Request{ID: id, State: requests.StateOpen} }
	for _, lang := range []string{"it", "en"} {
		p := &page{cat: c, Lang: lang, Form: url.Values{"price": {"0"}, "unit": {" "}, "conditions": {"x"}},
			Errors: map[string]string{"price": "bad_amount", "unit": "required", "conditions": "invalid"}}
		p.Data = inboxData{Requests: []requests.Request{open("rq-1"), open("rq-2")}, Refused: "rq-1"}
		var b strings.Builder
		if err := pages["requests_inbox"].ExecuteTemplate(&b, contentOf("requests_inbox"), p); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, f := range []struct{ prefix, code string }{{"p-", "bad_amount"}, {"u-", "required"}, {"c-", "invalid"}} {
			msg := p.T("err." + f.code)
			if msg == "" || strings.HasPrefix(msg, "err.") {
				t.Fatalf("%s: no message for %s", lang, f.code)
			}
			if !strings.Contains(got, `<p class="error" id="e-`+f.prefix+`rq-1">`+template.HTMLEscapeString(msg)+`</p>`) {
				t.Errorf("%s: no message beside %srq-1 in %s", lang, f.prefix, got)
			}
			if !strings.Contains(got, `id="`+f.prefix+`rq-1"`) || !strings.Contains(got, `aria-invalid="true" aria-describedby="e-`+f.prefix+`rq-1"`) {
				t.Errorf("%s: %srq-1 not marked invalid", lang, f.prefix)
			}
			if strings.Contains(got, `e-`+f.prefix+`rq-2`) {
				t.Errorf("%s: the other form's %s is marked", lang, f.prefix)
			}
		}
	}
}
