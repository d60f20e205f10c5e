package webui

import (
	"cmp"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/requests"
)

// maxMessageBody bounds a case message's form: the largest attachment
// allowed plus room for the text and the multipart framing. A bigger body
// is cut before it is read whole.
const maxMessageBody = requests.MaxAttachment + 64<<10

// sideGate lets through whoever has a side on a request or case: a
// citizen or an operator acting for one (the citizen's side), the coop's
// admin or case manager (the provider's side). Anyone else gets 403.
func (u *ui) sideGate(h http.HandlerFunc) http.HandlerFunc {
	return u.gate(func(w http.ResponseWriter, r *http.Request) {
		if a := actor(r); !requests.ForCitizen(a) && !requests.IsProvider(a) {
			u.fail(w, r, problem.ErrForbidden)
			return
		}
		h(w, r)
	})
}

// messagePost sends a case message from the case page: text, and an
// attachment (PDF, JPEG or PNG, at most requests.MaxAttachment) whose
// type is what its bytes are, not what the browser says. The domain
// checks the message again and audits a refusal; a body cut for its size
// never reaches it, so it is audited here.
func (u *ui) messagePost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	back := "/pratiche/" + id
	r.Body = http.MaxBytesReader(w, r.Body, maxMessageBody)
	var in requests.NewMessage
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		// In memory: a citizen's attachment never goes to a temporary file.
		if err := r.ParseMultipartForm(maxMessageBody); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				u.refuseAttachment(w, r, id, "attachment_size")
				return
			}
			u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
			return
		}
		if t := r.MultipartForm.Value["text"]; len(t) > 0 {
			in.Text = t[0]
		}
		att, code := formAttachment(r.MultipartForm.File["file"])
		if code != "" {
			u.refuseAttachment(w, r, id, code)
			return
		}
		in.Attachment = att
	} else {
		if err := r.ParseForm(); err != nil {
			u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
			return
		}
		in.Text = r.PostForm.Get("text")
	}
	_, err := u.d.Requests.Send(ctx(r), actor(r), id, in)
	if pe := problem.As(err); err != nil && (pe.Code == "attachment_size" || strings.HasPrefix(pe.Fields["message"], "attachment_")) {
		u.redirect(w, r, back, attachmentFlash(cmp.Or(pe.Fields["message"], pe.Code)))
		return
	}
	u.answered(w, r, err, back, "flash.rq_saved")
}

// refuseAttachment audits an attachment the page refused before the
// domain saw it and sends the sender back to the case with the reason.
func (u *ui) refuseAttachment(w http.ResponseWriter, r *http.Request, id, code string) {
	if u.d.Audit != nil {
		ev := actor(r).Event(audit.Denied, "case_messages", id)
		ev.Detail = code
		_ = u.d.Audit.Record(ctx(r), ev)
	}
	u.redirect(w, r, "/pratiche/"+id, attachmentFlash(code))
}

func attachmentFlash(code string) string {
	switch code {
	case "attachment_size":
		return "flash.citflow_attachment_size"
	case "attachment_type":
		return "flash.citflow_attachment_type"
	}
	return "flash.rq_refused"
}

// formAttachment reads the form's one file, or nil when none was chosen,
// or the refusal's code.
func formAttachment(fhs []*multipart.FileHeader) (*requests.Attachment, string) {
	if len(fhs) == 0 || (fhs[0].Filename == "" && fhs[0].Size == 0) {
		return nil, ""
	}
	fh := fhs[0]
	if fh.Size > requests.MaxAttachment {
		return nil, "attachment_size"
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "attachment_size"
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, requests.MaxAttachment+1))
	if err != nil || len(b) == 0 || len(b) > requests.MaxAttachment {
		return nil, "attachment_size"
	}
	typ, _, _ := strings.Cut(http.DetectContentType(b), ";")
	name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
	if !utf8.ValidString(name) || len(name) > 100 || name == "." || name == "/" || strings.ContainsAny(name, "\x00\r\n") {
		name = "allegato"
	}
	return &requests.Attachment{Name: name, Type: typ, Data: b}, ""
}

// attachmentGet sends a case message's attachment, to whoever may read
// the case (the read is audited), as a download in its checked type.
func (u *ui) attachmentGet(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	c, err := u.d.Requests.Case(ctx(r), actor(r), v["id"])
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, m := range c.Messages {
		if m.ID != v["msg"] || m.Attachment == nil {
			continue
		}
		h := w.Header()
		h.Set("Content-Type", m.Attachment.Type)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.Attachment.Name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		_, _ = w.Write(m.Attachment.Data)
		return
	}
	u.fail(w, r, problem.ErrNotFound)
}
