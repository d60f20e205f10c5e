package httpx

import (
	"net/http"
	"strconv"

	"github.com/difronte/difronte/node/problem"
)

// ListQuery is the query of a list route: ?q=&archived=&offset=&limit=.
type ListQuery struct {
	Search   string
	Archived bool
	Offset   int
	Limit    int
}

// ParseListQuery reads ?q=&archived=&offset=&limit= strictly.
func ParseListQuery(r *http.Request) (ListQuery, error) {
	v := r.URL.Query()
	q := ListQuery{Search: v.Get("q")}
	if len(q.Search) > 200 {
		return q, problem.BadRequest("bad_query", "q longer than 200 bytes", nil)
	}
	var err error
	num := func(name string, max int) int {
		s := v.Get(name)
		if s == "" || err != nil {
			return 0
		}
		n, e := strconv.Atoi(s)
		if e != nil || n < 0 || n > max {
			err = problem.BadRequest("bad_query", name+" must be a number between 0 and "+strconv.Itoa(max), nil)
		}
		return n
	}
	q.Offset = num("offset", 1_000_000)
	q.Limit = num("limit", 500)
	switch v.Get("archived") {
	case "", "0", "false":
	case "1", "true":
		q.Archived = true
	default:
		err = problem.BadRequest("bad_query", "archived must be true or false", nil)
	}
	return q, err
}
