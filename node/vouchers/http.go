package vouchers

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// maxBody bounds a request: a redemption carries one token.
const maxBody = 64 << 10

// Routes adds the voucher routes under /api/v1 (docs/api.md, "Vouchers").
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/vouchers/wallet", r.Role("wallet", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		wl, subject, err := s.WalletOf(r.Context(), a)
		return map[string]string{"wallet": wl.ID, "home": s.cfg.Self, "subject": subject}, err
	}), Citizen)).Methods(http.MethodGet)
	v1.HandleFunc("/vouchers", r.Role("voucher", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		switch a.Role {
		case auth.Officer:
			items, err := s.IssuedList(r.Context(), a)
			return map[string]any{"items": items}, err
		case Citizen:
			items, err := s.Held(r.Context(), a)
			return map[string]any{"items": items}, err
		default:
			items, err := s.Redemptions(r.Context(), a, r.URL.Query().Get("case"))
			return map[string]any{"items": items}, err
		}
	}), auth.Officer, Citizen, auth.Admin, auth.CaseManager)).Methods(http.MethodGet)
	v1.HandleFunc("/vouchers", r.Role("voucher", httpx.JSON(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var in IssueInput
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return nil, err
		}
		return s.Issue(r.Context(), a, in)
	}), auth.Officer)).Methods(http.MethodPost)
	v1.HandleFunc("/vouchers/redeem", r.Role("voucher", httpx.JSON(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var in RedeemInput
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return nil, err
		}
		return s.Redeem(r.Context(), a, in)
	}), auth.Admin, auth.CaseManager)).Methods(http.MethodPost)
	v1.HandleFunc("/vouchers/{id}/deliver", r.Role("voucher", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		if err := httpx.NoBody(w, r); err != nil {
			return nil, err
		}
		return s.Deliver(r.Context(), a, mux.Vars(r)["id"])
	}), auth.Officer)).Methods(http.MethodPost)
	v1.HandleFunc("/vouchers/{id}/revoke", r.Role("voucher", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return nil, err
		}
		return s.Revoke(r.Context(), a, mux.Vars(r)["id"], in.Reason)
	}), auth.Officer)).Methods(http.MethodPost)
}
