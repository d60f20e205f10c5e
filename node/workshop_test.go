package node_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/workshop"
)

// The registry's states are the workshop's lifecycle.
func TestWorkshopStatesAreCareStates(t *testing.T) {
	if !slices.Equal(workshop.States, care.TerminalStates) {
		t.Fatalf("workshop %v, care %v", workshop.States, care.TerminalStates)
	}
}

// TestWorkshopOverHTTP takes a donated PC through a running node's API:
// intake, the probe's report with the one-time code and no account, every
// step to delivery with its checklist, a refused move, hours logged, the
// queue, the worker's summary and the coop's stats.
func TestWorkshopOverHTTP(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	adm := login(t, n, "admin", "ponte-di-vetro-42")
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "luca", "role": "refurbisher", "password": "tramonto-sul-lago-blu"}, nil)
	var ben struct{ ID string }
	adm.call(http.StatusCreated, "POST", "/api/v1/beneficiaries", map[string]any{"name": "Maria Rossi", "address": "Via Roma 1", "municipality": "001272"}, &ben)
	luca := login(t, n, "luca", "tramonto-sul-lago-blu")
	today := time.Now().Format(time.DateOnly)

	var tk workshop.Taken
	luca.call(http.StatusCreated, "POST", "/api/v1/terminals/intake", map[string]any{"donor": "Studio Rossi", "date": today, "model": "ThinkPad X230", "serial": "PB-1"}, &tk)
	anon := &client{t: t, base: n.URL()}
	rep := map[string]any{"collected_at": time.Now().UTC().Format(time.RFC3339), "arch": "amd64", "cpu": map[string]any{"model": "i5", "cores": 2}, "ram_mb": 4096,
		"disks":   []map[string]any{{"name": "sda", "model": "ST500", "size_gb": 500.0, "rotational": true, "smart": "failed"}},
		"battery": map[string]any{"present": true, "wear_percent": 10.0}, "screen": map[string]any{"width": 1366, "height": 768},
		"webcam": true, "microphone": true, "speakers": true, "network": map[string]any{"ethernet": true, "wifi": false},
		"bios": map[string]any{"vendor": "LENOVO", "version": "1", "date": "2012-01-01"}, "rtc_wakealarm": false, "rtc_local_time": false}
	anon.call(http.StatusBadRequest, "POST", "/api/v1/terminals/probe", map[string]any{"code": tk.Code, "report": rep, "extra": 1}, nil)
	var probed struct {
		Terminal string
		Warnings []string
	}
	anon.call(http.StatusOK, "POST", "/api/v1/terminals/probe", map[string]any{"code": tk.Code, "report": rep}, &probed)
	if probed.Terminal != tk.ID || !slices.Equal(probed.Warnings, []string{"disk_failing", "no_rtc_alarm"}) {
		t.Fatalf("probe answer %+v", probed)
	}
	anon.call(http.StatusUnauthorized, "POST", "/api/v1/terminals/probe", map[string]any{"code": tk.Code, "report": rep}, nil)

	var q []workshop.QueueStep
	luca.call(http.StatusOK, "GET", "/api/v1/refurbishment/queue?mine=1", nil, &q)
	if q[0].State != "recovered" || len(q[0].Items) != 1 || q[0].Items[0].ID != tk.ID {
		t.Fatalf("queue %+v", q)
	}
	luca.call(http.StatusConflict, "POST", "/api/v1/terminals/"+tk.ID+"/transitions", map[string]any{"to": "ready"}, nil)
	path := []struct {
		to string
		cl map[string]string
	}{
		{"wiping", nil},
		{"installing", map[string]string{"wipe_method": "nwipe_dod_short", "wipe_date": today, "wiped_by": "Luca", "wipe_verified": "true"}},
		{"configuring", map[string]string{"os": "Debian 12", "os_installed": "true"}},
		{"testing", map[string]string{"setup_done": "true", "kiosk_starts": "true"}},
		{"ready", map[string]string{"test_call_date": today, "test_call_with": "Carla", "audio_ok": "true", "video_ok": "true", "wakes_by_itself": "true"}},
		{"delivered", map[string]string{"beneficiary": ben.ID, "delivery_date": today, "signed_by": "Luca Rossi", "signer_role": "family",
			"training_answer": "true", "training_volume": "true", "training_power": "true", "training_help": "true"}},
	}
	for _, p := range path {
		var v workshop.View
		luca.call(http.StatusOK, "POST", "/api/v1/terminals/"+tk.ID+"/transitions", map[string]any{"to": p.to, "checklist": p.cl}, &v)
		if v.State != p.to {
			t.Fatalf("moved to %s, state %s", p.to, v.State)
		}
	}
	var term care.Terminal
	adm.call(http.StatusOK, "GET", "/api/v1/terminals/"+tk.ID, nil, &term)
	if term.State != "delivered" || term.Beneficiary != ben.ID || len(term.History) != 7 {
		t.Fatalf("terminal after delivery %+v", term)
	}
	// A refurbisher's edit keeps the beneficiary and the state.
	luca.call(http.StatusOK, "PUT", "/api/v1/terminals/"+tk.ID, map[string]any{"label": "PB-1", "model": "ThinkPad X230", "notes": "ok"}, &term)
	if term.Beneficiary != ben.ID || term.State != "delivered" {
		t.Fatalf("after a refurbisher's edit %+v", term)
	}
	var errBody struct{ Code string }
	luca.call(http.StatusConflict, "POST", "/api/v1/terminals/"+tk.ID+"/transitions", map[string]any{"to": "recovered"}, &errBody)
	if errBody.Code != workshop.RefusedForbidden {
		t.Fatalf("refusal %+v", errBody)
	}
	luca.call(http.StatusCreated, "POST", "/api/v1/refurbishment/worklog", map[string]any{"terminal": tk.ID, "step": "wiping", "hours": 2.5, "date": today}, nil)
	var sm workshop.Summary
	luca.call(http.StatusOK, "GET", "/api/v1/refurbishment/workers/luca", nil, &sm)
	if sm.Hours != 2.5 || sm.Devices != 1 || sm.Steps["ready"] != 1 || sm.Steps["wiping"] != 1 {
		t.Fatalf("summary %+v", sm)
	}
	luca.call(http.StatusForbidden, "GET", "/api/v1/refurbishment/stats", nil, nil)
	var st workshop.Stats
	adm.call(http.StatusOK, "GET", "/api/v1/refurbishment/stats", nil, &st)
	if st.Recovered != 1 || st.Delivered != 1 || st.HoursOfWork != 2.5 {
		t.Fatalf("stats %+v", st)
	}
}

// TestWorkshopPagesWithoutJavaScript: the workshop's pages are plain
// forms. A refurbisher sees the queue and a device, moves it with a form
// (303 back to the device), a refused move answers 409 with its reason
// in the page's language, hours are logged; a caregiver gets 403.
func TestWorkshopPagesWithoutJavaScript(t *testing.T) {
	n := start(t, node.Config{AdminPassword: "ponte-di-vetro-42"})
	defer n.Close()
	defer http.DefaultClient.CloseIdleConnections()
	adm := login(t, n, "admin", "ponte-di-vetro-42")
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "luca", "role": "refurbisher", "password": "tramonto-sul-lago-blu"}, nil)
	adm.call(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"username": "anna", "role": "caregiver", "password": "lanterna-blu-sul-molo"}, nil)
	luca := login(t, n, "luca", "tramonto-sul-lago-blu")
	var tk workshop.Taken
	luca.call(http.StatusCreated, "POST", "/api/v1/terminals/intake", map[string]any{"donor": "Studio Rossi", "date": time.Now().Format(time.DateOnly), "model": "ThinkPad X230", "serial": "PB-7"}, &tk)

	page := func(c *client, method, path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, n.URL()+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: "difronte_session", Value: c.token})
		req.AddCookie(&http.Cookie{Name: "difronte_lang", Value: "it"})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := page(luca, "GET", "/officina", nil); code != http.StatusOK || !strings.Contains(body, "PB-7") || strings.Contains(body, "⟦") {
		t.Fatalf("queue page %d: %.300s", code, body)
	}
	if code, body := page(luca, "GET", "/officina/"+tk.ID, nil); code != http.StatusOK || !strings.Contains(body, `id="move-wiping"`) || strings.Contains(body, "⟦") {
		t.Fatalf("device page %d: %.300s", code, body)
	}
	if code, _ := page(luca, "POST", "/officina/"+tk.ID+"/move", url.Values{"to": {"wiping"}}); code != http.StatusSeeOther {
		t.Fatalf("move: %d", code)
	}
	code, body := page(luca, "POST", "/officina/"+tk.ID+"/move", url.Values{"to": {"installing"}, "cl.wipe_method": {"nwipe_dod_short"}})
	if code != http.StatusConflict || !strings.Contains(body, "La lista di controllo non è completa") || !strings.Contains(body, "Ho verificato che i dati del donatore non ci sono più") {
		t.Fatalf("refused move %d: %.500s", code, body)
	}
	if code, body := page(luca, "POST", "/officina/"+tk.ID+"/move", url.Values{"to": {"delivered"}}); code != http.StatusConflict || !strings.Contains(body, "non è permesso") {
		t.Fatalf("forbidden move %d: %.300s", code, body)
	}
	if code, _ := page(luca, "POST", "/officina/"+tk.ID+"/worklog", url.Values{"step": {"wiping"}, "hours": {"1,5"}, "date": {time.Now().Format(time.DateOnly)}}); code != http.StatusSeeOther {
		t.Fatalf("worklog: %d", code)
	}
	if code, body := page(luca, "GET", "/officina/lavoratori/luca", nil); code != http.StatusOK || !strings.Contains(body, "Ore di lavoro: 1,5") {
		t.Fatalf("own certificate %d: %.300s", code, body)
	}
	anna := login(t, n, "anna", "lanterna-blu-sul-molo")
	if code, _ := page(anna, "GET", "/officina", nil); code != http.StatusForbidden {
		t.Fatalf("caregiver on /officina: %d", code)
	}
	if code, _ := page(anna, "GET", "/officina/lavoratori/luca", nil); code != http.StatusForbidden {
		t.Fatalf("caregiver on the certificate: %d", code)
	}
}
