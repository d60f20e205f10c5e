package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleWorker() WorkerProfile {
	return WorkerProfile{
		ID: "0b7e3a52-6f1d-4c8e-9a3b-2d4c6e8f0a1b", Alias: "Elena P.", Coop: "Cooperativa Sole",
		Work: []WorkKind{WorkElderly, WorkNight}, ExperienceYears: 8,
		Certificates: []Certificate{"oss", "first_aid"}, Languages: []string{"ro", "it"},
		Areas:        []string{"015209", "015146"},
		Availability: WorkerAvailability{Days: []Weekday{Monday, Tuesday, Wednesday}, HoursPerWeek: 40, Night: true},
		Pay:          WorkerPay{AmountCents: 135000, Unit: PerMonth},
		Presentation: "Assisto anziani da otto anni, anche di notte. Cucino e parlo bene italiano.",
		CheckedOn:    "2026-10-12",
	}
}

func TestWorkerProfileValid(t *testing.T) {
	p := sampleWorker()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(p)
	if err := ValidateBody(KindWorker, p.ID, body); err != nil {
		t.Fatal(err)
	}
	if err := ValidateBody(KindWorker, "5b0f3c1e-8a4d-4c2b-9e7f-1a2b3c4d5e6f", body); err == nil {
		t.Fatal("a profile under another key was accepted")
	}
	if !KindWorker.Known() {
		t.Fatal("worker is not a known kind")
	}
}

func TestWorkerProfileInvalid(t *testing.T) {
	cases := []struct {
		name, field, code string
		mod               func(*WorkerProfile)
	}{
		{"no alias", "alias", CodeRequired, func(p *WorkerProfile) { p.Alias = " " }},
		{"alias with digits", "alias", CodeBadCharacters, func(p *WorkerProfile) { p.Alias = "Elena 347" }},
		{"unknown work", "work[0]", CodeBadChoice, func(p *WorkerProfile) { p.Work = []WorkKind{"gardening"} }},
		{"no work", "work", CodeRequired, func(p *WorkerProfile) { p.Work = nil }},
		{"unknown certificate", "certificates[0]", CodeBadChoice, func(p *WorkerProfile) { p.Certificates = []Certificate{"call me"} }},
		{"bad area", "areas[0]", CodeBadMunicipality, func(p *WorkerProfile) { p.Areas = []string{"999999"} }},
		{"too many hours", "availability.hours_per_week", CodeOutOfRange, func(p *WorkerProfile) { p.Availability.HoursPerWeek = 60 }},
		{"no pay", "pay.amount_cents", CodeBadAmount, func(p *WorkerProfile) { p.Pay.AmountCents = 0 }},
		{"weekly pay", "pay.unit", CodeBadChoice, func(p *WorkerProfile) { p.Pay.Unit = PerWeek }},
		{"bad date", "checked_on", CodeInvalid, func(p *WorkerProfile) { p.CheckedOn = "12/10/2026" }},
		{"phone in presentation", "presentation", CodeContactHidden, func(p *WorkerProfile) { p.Presentation = "Chiamami al 347 123 4567" }},
		{"mail in presentation", "presentation", CodeContactHidden, func(p *WorkerProfile) { p.Presentation = "scrivi a elena.p@example.org" }},
		{"url in presentation", "presentation", CodeContactHidden, func(p *WorkerProfile) { p.Presentation = "vedi www.elena-badante.it" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := sampleWorker()
			tc.mod(&p)
			var fe FieldErrors
			if err := p.Validate(); !errors.As(p.Validate(), &fe) || err == nil {
				t.Fatalf("accepted: %v", err)
			}
			if got := fe.Codes()[tc.field]; got != tc.code {
				t.Fatalf("field %s code %q, want %q (%v)", tc.field, got, tc.code, fe)
			}
		})
	}
}

func TestContactHidden(t *testing.T) {
	hidden := []string{
		"347 1234567", "+39 347-123-4567", "3 4 7 1 2 3 4 5 6 7", "347.123.45.67",
		"tre quattro sette uno due tre quattro cinque sei sette", "three four seven one two three four five",
		"(02) 1234 5678", "chiamami 3471234567 dopo le 18",
		"elena@example.org", "elena at gmail dot com", "elena (at) gmail.com", "elena chiocciola libero punto it",
		"https://elena.example", "www.elena.it", "mio-sito.it", "scrivimi su wa.me/393471234567", "trovami su badanti punto com",
	}
	for _, s := range hidden {
		if ContactHidden(s) == "" {
			t.Errorf("%q: contact not found", s)
		}
	}
	fine := []string{
		"", "Ho 8 anni di esperienza, dal 2015 al 2023, con due anziani.",
		"Lavoro a Sesto San Giovanni. It is where I live.", "Parlo rumeno e italiano; disponibile la notte.",
		"Assisto persone con Alzheimer da 12 anni; patente B.", "at home with elderly people, at night too.",
		"Sei giorni su sette, tre notti a settimana.", "Orari: 8.00-12.00 e 14.00-18.00",
	}
	for _, s := range fine {
		if what := ContactHidden(s); what != "" {
			t.Errorf("%q: false alarm, %s", s, what)
		}
	}
}

func TestWorkerChecked(t *testing.T) {
	p := sampleWorker()
	checked, _ := time.Parse(time.DateOnly, p.CheckedOn)
	if !p.Checked(checked.AddDate(0, 5, 0)) {
		t.Fatal("a profile checked five months ago is not shown")
	}
	if p.Checked(checked.AddDate(0, 7, 0)) {
		t.Fatal("a profile checked seven months ago is still shown")
	}
}

// FuzzWorkerBody: the decoder of a worker entry's body, which comes from
// the network, never panics, and what it accepts is a profile that
// validates and re-encodes to a body it accepts again.
func FuzzWorkerBody(f *testing.F) {
	p := sampleWorker()
	good, _ := json.Marshal(p)
	f.Add(string(good))
	f.Add(strings.Replace(string(good), `"alias"`, `"ALIAS"`, 1))
	f.Add(`{"id":"x"}`)
	f.Add(`{}`)
	f.Add(string(good) + "{}")
	f.Add(strings.Replace(string(good), "Cucino", "Chiama 3471234567", 1))
	f.Fuzz(func(t *testing.T, body string) {
		if err := ValidateBody(KindWorker, p.ID, []byte(body)); err != nil {
			return
		}
		var q WorkerProfile
		if err := json.Unmarshal([]byte(body), &q); err != nil {
			t.Fatalf("accepted body does not decode: %v", err)
		}
		again, _ := json.Marshal(q)
		if err := ValidateBody(KindWorker, p.ID, again); err != nil {
			t.Fatalf("re-encoded accepted body refused: %v", err)
		}
	})
}
