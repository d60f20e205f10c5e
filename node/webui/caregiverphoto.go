package webui

import (
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/problem"
)

// A caregiver's photo is set from her page (/caregivers/{id}) by herself
// or by the admin, and shown there, in the caregivers' list and on the
// terminal when she rings. The picture is read from the JSON API's route
// (GET /api/v1/caregivers/{id}/photo), which checks who may see it.

// caregiverExtra is the caregiver page's data besides the record.
type caregiverExtra struct {
	CanPhoto bool // the reader may change the photo
}

func caregiverDetailExtra(r *http.Request, c care.Caregiver) any {
	a := actor(r)
	return caregiverExtra{CanPhoto: a.Role == auth.Admin || (a.Role == auth.Caregiver && a.CaregiverID == c.ID)}
}

// maxPhotoBody leaves room for the form around the picture.
const maxPhotoBody = care.MaxPhoto + 64<<10

func (u *ui) caregiverPhotoRoutes() {
	r := u.s.Router
	r.HandleFunc("/caregivers/{id}/photo", u.gate(u.caregiverPhotoPost, auth.Admin, auth.Caregiver)).Methods(http.MethodPost)
	r.HandleFunc("/caregivers/{id}/photo/remove", u.gate(u.caregiverPhotoRemove, auth.Admin, auth.Caregiver)).Methods(http.MethodPost)
}

func (u *ui) caregiverPhotoPost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	r.Body = http.MaxBytesReader(w, r.Body, maxPhotoBody)
	var b []byte
	err := r.ParseMultipartForm(maxPhotoBody)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		b = make([]byte, care.MaxPhoto+1) // refused as too large below
	case err != nil:
		u.fail(w, r, problem.BadRequest("bad_form", "form could not be read", err))
		return
	default:
		if f, _, ferr := r.FormFile("photo"); ferr == nil {
			b, err = io.ReadAll(io.LimitReader(f, care.MaxPhoto+1))
			f.Close()
			if err != nil {
				u.fail(w, r, problem.BadRequest("bad_form", "form could not be read", err))
				return
			}
		}
	}
	if _, err := u.d.Care.SetCaregiverPhoto(ctx(r), actor(r), id, b); err != nil {
		u.photoRefused(w, r, id, err)
		return
	}
	http.Redirect(w, r, "/caregivers/"+id+"#photo", http.StatusSeeOther)
}

func (u *ui) caregiverPhotoRemove(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if _, err := u.d.Care.RemoveCaregiverPhoto(ctx(r), actor(r), id); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/caregivers/"+id+"#photo", http.StatusSeeOther)
}

// photoRefused shows the caregiver's page again with the photo's error.
func (u *ui) photoRefused(w http.ResponseWriter, r *http.Request, id string, err error) {
	pe := problem.As(err)
	if pe.Status != http.StatusBadRequest {
		u.fail(w, r, err)
		return
	}
	c, gerr := u.d.Care.Caregiver(ctx(r), actor(r), id)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	p := u.newPage(w, r, "caregiver.detail_title")
	p.Errors = pe.Fields
	p.Data = detailData{Item: c, CanWrite: slices.Contains([]auth.Role{auth.Admin}, actor(r).Role), Base: "/caregivers", Extra: caregiverDetailExtra(r, c)}
	u.render(w, r, p, "caregiver", http.StatusBadRequest)
}
