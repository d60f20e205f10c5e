package catalogue

import (
	"net/http"
	"time"

	"github.com/difronte/difronte/node/httpx"
)

// Coop is a coop node of the federation as this node knows it.
type Coop struct {
	PeerID   string    `json:"peer_id"`
	CoopName string    `json:"coop_name"`
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Records  int       `json:"records"` // live records this node holds from it
	Self     bool      `json:"self"`
	Addrs    []string  `json:"addrs,omitempty"`
}

// Coops lists every coop this node knows, from membership and from the
// replica; the node's federation provides it.
type Coops func() []Coop

// Routes adds GET /api/v1/federation/peers, the coops of the federation.
// Public: which coops exist and whether they are online is not private.
func (c Coops) Routes(r *httpx.Router) {
	r.API().HandleFunc("/federation/peers", func(w http.ResponseWriter, r *http.Request) {
		cs := c()
		if cs == nil {
			cs = []Coop{}
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": len(cs), "peers": cs})
	}).Methods(http.MethodGet)
}
