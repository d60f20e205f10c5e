package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/photo/phototest"
)

// raw sends body as it is (a picture), with the client's session and the
// given extra header, and returns the status, the type and the body.
func (c *client) raw(method, path string, body []byte, header ...string) (int, string, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestCaregiverPhoto: a caregiver sets her own photo, the admin sets and
// removes one; a wrong type, an oversized file and another caregiver are
// refused. The paired terminal of a person she calls reads it with its
// device credential; a terminal of someone else, a forged credential or
// nobody may not. Every change and read is audited; editing the record
// keeps the photo.
func TestCaregiverPhoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	r := newTerminalRig(t, ctx, "10:00", 2*time.Hour)
	adm := login(t, r.n, "admin", "admin-password-1")
	bruno := r.otherCg
	path := "/api/v1/caregivers/" + r.cg.ID + "/photo"
	refused := func(c *client, body []byte, want int, field string) {
		t.Helper()
		code, _, b := c.raw("PUT", path, body, "Content-Type", "image/png")
		var pe struct{ Fields map[string]string }
		_ = json.Unmarshal(b, &pe)
		if code != want || (field != "" && pe.Fields["photo"] != field) {
			t.Fatalf("PUT photo: %d %s, want %d %s", code, b, want, field)
		}
	}
	// Refused: not a picture (whatever the header says), too large, too
	// many pixels, another caregiver, nobody.
	refused(r.carla, []byte("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), http.StatusBadRequest, "photo_type")
	refused(r.carla, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), http.StatusBadRequest, "photo_type")
	big := append(phototest.PNG(8, 8), make([]byte, care.MaxPhoto)...)
	refused(r.carla, big, http.StatusBadRequest, "photo_too_large")
	refused(r.other, phototest.PNG(8, 8), http.StatusForbidden, "")
	refused(&client{t: t, base: r.n.URL()}, phototest.PNG(8, 8), http.StatusUnauthorized, "")

	// Accepted: her own JPEG, kept as a JPEG.
	code, _, b := r.carla.raw("PUT", path, phototest.JPEG(120, 160))
	var cg care.Caregiver
	if err := json.Unmarshal(b, &cg); code != http.StatusOK || err != nil || cg.Photo == "" {
		t.Fatalf("caregiver's own photo: %d %s", code, b)
	}
	// The terminal of Maria, whom Carla calls, reads it.
	term := &client{t: t, base: r.n.URL()}
	code, ct, got := term.raw("GET", path, nil, care.DeviceHeader, r.cred)
	if code != http.StatusOK || ct != "image/jpeg" || len(got) == 0 {
		t.Fatalf("terminal reads the caller's photo: %d %s", code, ct)
	}
	// Not Bruno's (he does not call Maria), not with a forged credential,
	// not without one.
	if _, err := r.n.Care().SetCaregiverPhoto(ctx, sysAdmin, bruno.ID, phototest.PNG(10, 10)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, cred string
		want       int
	}{
		{"/api/v1/caregivers/" + bruno.ID + "/photo", r.cred, http.StatusForbidden},
		{path, "forged-credential", http.StatusForbidden},
		{path, "", http.StatusUnauthorized},
	} {
		if code, _, _ := term.raw("GET", c.path, nil, care.DeviceHeader, c.cred); code != c.want {
			t.Fatalf("terminal GET %s with %q: %d, want %d", c.path, c.cred, code, c.want)
		}
	}
	// The staff read it; editing her record keeps it.
	if code, ct, _ := adm.raw("GET", "/api/v1/caregivers/"+bruno.ID+"/photo", nil); code != http.StatusOK || ct != "image/png" {
		t.Fatalf("admin reads a photo: %d %s", code, ct)
	}
	cg.Phone = "+39 02 1234567"
	var after care.Caregiver
	adm.call(http.StatusOK, "PUT", "/api/v1/caregivers/"+r.cg.ID, map[string]any{"name": cg.Name, "languages": cg.Languages, "phone": cg.Phone, "photo": ""}, &after)
	if after.Photo != cg.Photo {
		t.Fatalf("editing the record changed the photo %q → %q", cg.Photo, after.Photo)
	}
	// The admin removes it: the terminal is told there is none.
	var removed care.Caregiver
	adm.call(http.StatusOK, "DELETE", path, nil, &removed)
	if removed.ID != r.cg.ID || removed.Photo != "" {
		t.Fatalf("removed photo still named: %+v", removed)
	}
	if code, _, _ := term.raw("GET", path, nil, care.DeviceHeader, r.cred); code != http.StatusNotFound {
		t.Fatalf("terminal reads a removed photo: %d", code)
	}
	// Audited: the change, the refusals, the terminal's read.
	evs, err := r.n.Audit().Query(ctx, audit.Filter{Kind: "caregiver", Object: r.cg.ID, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		seen[string(e.Action)+" "+e.Detail+" "+e.Actor] = true
	}
	for _, want := range []string{"update photo carla", "update photo_removed admin", "denied photo bruno", "denied photo terminal", "denied photo photo_too_large carla"} {
		if !seen[want] {
			t.Errorf("audit has no %q: %v", want, seen)
		}
	}
	var read bool
	for k := range seen {
		if len(k) > len("read photo terminal:") && k[:len("read photo terminal:")] == "read photo terminal:" {
			read = true
		}
	}
	if !read {
		t.Errorf("the terminal's read is not audited: %v", seen)
	}
}
