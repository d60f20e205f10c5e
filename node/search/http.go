package search

import (
	"net/http"
	"strings"

	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// Routes adds GET /api/v1/catalogue/search, the search of this node's
// replica of the federated catalogue. It is public: citizens search
// without an account.
func (c *Catalogue) Routes(r *httpx.Router) {
	r.API().HandleFunc("/catalogue/search", r.Public(c.serveSearch)).Methods(http.MethodGet)
}

func (c *Catalogue) serveSearch(w http.ResponseWriter, r *http.Request) error {
	if len(r.URL.RawQuery) > 4096 {
		return problem.BadRequest("bad_query", "query string longer than 4096 bytes", nil)
	}
	q, err := ParseQuery(r.URL.Query(), false)
	if err != nil {
		return err
	}
	q.Text = strings.TrimSpace(q.Text)
	b := pageBufs.Get().(*pageBuf)
	defer pageBufs.Put(b) // once the answer is written: nothing of it is kept
	ans, err := c.answer(r.Context(), q, b)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, ans)
	return nil
}
