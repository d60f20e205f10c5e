package catalogue

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/schema"
)

// Routes adds the coop's own offerings under /api/v1/offerings: listed,
// read, created, changed and archived by the rules of Own.
func (o *Own) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/offerings", r.Authed(httpx.JSON(http.StatusOK, o.listHTTP))).Methods(http.MethodGet)
	v1.HandleFunc("/offerings", r.Authed(httpx.JSON(http.StatusCreated, o.createHTTP))).Methods(http.MethodPost)
	v1.HandleFunc("/offerings/{id}", r.Authed(httpx.JSON(http.StatusOK, o.getHTTP))).Methods(http.MethodGet)
	v1.HandleFunc("/offerings/{id}", r.Authed(httpx.JSON(http.StatusOK, o.updateHTTP))).Methods(http.MethodPut)
	v1.HandleFunc("/offerings/{id}", r.Authed(httpx.JSON(http.StatusOK, o.archiveHTTP))).Methods(http.MethodDelete)
}

func (o *Own) listHTTP(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	q, err := httpx.ParseListQuery(r)
	if err != nil {
		return nil, err
	}
	return o.ListJSON(r.Context(), a, q.Search, q.Archived, q.Offset, q.Limit)
}

func (o *Own) getHTTP(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	return o.Get(r.Context(), a, mux.Vars(r)["id"])
}

func (o *Own) createHTTP(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	var off schema.Offering
	if err := httpx.DecodeJSON(w, r, &off, httpx.MaxBody); err != nil {
		return nil, err
	}
	rec, err := o.Create(r.Context(), a, off)
	if err != nil {
		return nil, err
	}
	return map[string]string{"id": rec.ID}, nil
}

func (o *Own) updateHTTP(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	var off schema.Offering
	if err := httpx.DecodeJSON(w, r, &off, httpx.MaxBody); err != nil {
		return nil, err
	}
	return o.Update(r.Context(), a, mux.Vars(r)["id"], off)
}

func (o *Own) archiveHTTP(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	return o.Archive(r.Context(), a, mux.Vars(r)["id"])
}
