package webui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/requests"
)

// reqThread is one provider the citizen can write to on a request.
type reqThread struct{ Provider, Name string }

type reqMessagesData struct {
	Request    requests.Request
	Messages   []requests.Message
	AttachBase string      // none: attachments on requests are API-only
	Threads    []reqThread // the citizen's side: the providers still talking
	Open       bool        // a message can be written now
	Back       string      // the list the request is on
}

// requestMessagesPage shows a request's messages before a case exists,
// to the citizen (or an operator for them: every provider's thread) or
// the provider (its own thread), and marks the other side's as read.
func (u *ui) requestMessagesPage(w http.ResponseWriter, r *http.Request) {
	a, id := actor(r), mux.Vars(r)["id"]
	req, err := u.d.Requests.Get(ctx(r), a, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ms, err := u.d.Requests.RequestMessages(ctx(r), a, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := reqMessagesData{Request: req, Messages: ms}
	talking := func(st string) bool { return st == requests.StateOpen || st == requests.StateOffered }
	if requests.ForCitizen(a) {
		for _, dl := range req.Deliveries {
			if !talking(dl.State) || req.Case != "" {
				continue
			}
			var names []string
			for _, o := range req.Offerings {
				if o.Publisher == dl.Provider && !slices.Contains(names, o.Name) {
					names = append(names, o.Name)
				}
			}
			d.Threads = append(d.Threads, reqThread{Provider: dl.Provider, Name: strings.Join(names, ", ")})
		}
		d.Open, d.Back = len(d.Threads) > 0, "/pratiche#my-"+req.ID
	} else {
		d.Open, d.Back = talking(req.State), "/richieste#rq-"+req.ID
	}
	p := u.newPage(w, r, "citmsg.title")
	p.Data = d
	u.render(w, r, p, "request_messages", http.StatusOK)
}

// requestMessagePost sends a message on a request from its page.
func (u *ui) requestMessagePost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	in := requests.NewRequestMessage{Text: r.PostForm.Get("text"), Provider: r.PostForm.Get("provider")}
	_, err := u.d.Requests.SendRequestMessage(ctx(r), actor(r), id, in)
	u.answered(w, r, err, "/richieste/"+id+"/messaggi", "flash.rq_saved")
}
