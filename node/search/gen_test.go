package search

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// genPlaces is a spread of municipalities across Italy: the first ten of
// each initial letter.
func genPlaces() []string {
	var out []string
	for c := 'a'; c <= 'z'; c++ {
		for _, m := range schema.SearchMunicipalities(string(c), 10) {
			out = append(out, m.Code)
		}
	}
	return out
}

var genWords = strings.Fields(`servizio aiuto persone famiglie casa domicilio operatrice operatore
	qualificato esperienza quartiere settimana mattina pomeriggio sera giorni festivi
	accompagnamento sostegno ascolto cura attenzione sicurezza autonomia benessere
	comune distretto sanitario medico infermiera terapia riabilitazione spesa farmaci
	pulizie bucato pasti dieta passeggiata compagnia lettura telefono video computer
	documenti pratiche sportello prenotazione visite esami trasporto auto carrozzina`)

// genOfferings returns n valid, varied offerings: every subcategory of the
// taxonomy, places all over Italy, descriptions of about 45 words.
func genOfferings(seed uint64, n int) []schema.Offering {
	r := rand.New(rand.NewPCG(seed, 0x736561726368))
	var subs []schema.TaxonomyTerm
	for _, t := range schema.Taxonomy() {
		if t.Parent != "" {
			subs = append(subs, t)
		}
	}
	places := genPlaces()
	langs := []string{"en", "ro", "uk", "ar", "es", "fr", "sq"}
	out := make([]schema.Offering, 0, n)
	for i := range n {
		t := subs[r.IntN(len(subs))]
		var desc strings.Builder
		desc.WriteString(t.DescriptionIT)
		for range 30 {
			desc.WriteByte(' ')
			desc.WriteString(genWords[r.IntN(len(genWords))])
		}
		desc.WriteByte('.')
		o := schema.Offering{
			ID:          fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1)),
			Name:        fmt.Sprintf("%s %d", t.NameIT, i+1),
			Description: desc.String(),
			Category:    t.Code,
			Cost:        schema.Cost{Type: schema.CostFree},
			Delivery:    schema.DeliveryIndividual,
			Areas:       []string{places[r.IntN(len(places))]},
			Languages:   []string{"it"},
			Contact:     schema.Contact{Name: "Sportello", Phone: fmt.Sprintf("+39 02 %07d", r.IntN(1e7))},
			Status:      schema.StatusActive,
		}
		if r.IntN(3) == 0 {
			o.Areas = append(o.Areas, places[r.IntN(len(places))])
			if o.Areas[0] == o.Areas[1] {
				o.Areas = o.Areas[:1]
			}
		}
		if r.IntN(5) == 0 {
			other := subs[r.IntN(len(subs))].Code
			if other != o.Category {
				o.Categories = []string{other}
			}
		}
		if r.IntN(2) == 0 {
			o.Cost = schema.Cost{Type: schema.CostPaid, Options: []schema.CostOption{{Option: "Tariffa", AmountCents: int64(500 + 100*r.IntN(30)), Currency: "EUR", Unit: schema.PerHour}}}
		}
		if r.IntN(4) == 0 {
			o.Delivery = schema.DeliveryShared
		}
		if r.IntN(4) == 0 {
			o.Languages = append(o.Languages, langs[r.IntN(len(langs))])
		}
		if r.IntN(3) == 0 {
			o.Eligibility = schema.Eligibility{Description: "Persone anziane sopra i 65 anni", MinAge: 65}
		}
		out = append(out, o)
	}
	return out
}

// fixture is a replica with a few publishers and an index following it.
type fixture struct {
	rep  *replica.Replica
	keys []ed25519.PrivateKey
	ids  []string
	idx  *Index
	clk  *fakeclock.Clock
}

func newReplica(t testing.TB) *replica.Replica {
	t.Helper()
	rep, err := replica.Open(context.Background(), dssync.MutexWrap(datastore.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func newFixture(t testing.TB, rep *replica.Replica, pubs int) *fixture {
	t.Helper()
	f := &fixture{rep: rep, clk: fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	for i := range pubs {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		k := ed25519.NewKeyFromSeed(seed)
		f.keys = append(f.keys, k)
		f.ids = append(f.ids, schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey)))
	}
	return f
}

func (f *fixture) open(t testing.TB, dir string) *Index {
	t.Helper()
	idx, err := Open(context.Background(), Config{Dir: dir, Replica: f.rep, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	f.idx = idx
	return idx
}

func (f *fixture) publish(t testing.TB, pub int, o schema.Offering) {
	t.Helper()
	body, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rep.Append(context.Background(), f.keys[pub], schema.KindOffering, o.ID, body, false, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) withdraw(t testing.TB, pub int, id string) {
	t.Helper()
	if _, err := f.rep.Append(context.Background(), f.keys[pub], schema.KindOffering, id, nil, true, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) coop(t testing.TB, pub int, name string) {
	t.Helper()
	body, _ := json.Marshal(schema.CoopProfile{Name: name, Kind: schema.KindCommunityCoop, Territory: []string{"015146"}})
	if _, err := f.rep.Append(context.Background(), f.keys[pub], schema.KindCoop, "profile", body, false, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sync(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.idx.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// bareIndex opens an index over an empty replica, for documents put in
// directly (putAll): no signing, which would dominate at thousands.
func bareIndex(t testing.TB) *Index {
	t.Helper()
	f := newFixture(t, newReplica(t), 1)
	x, err := open(Config{Replica: f.rep, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// putAll indexes offers from pubs publishers ("Cooperativa N"), in
// batches as the follower does.
func putAll(t testing.TB, x *Index, offers []schema.Offering, pubs int) {
	t.Helper()
	putQualified(t, x, offers, pubs, func(int, schema.Offering) *Qualification { return nil })
}

// putQualified is putAll with the i-th offering's qualification from
// qual (nil: none).
func putQualified(t testing.TB, x *Index, offers []schema.Offering, pubs int, qual func(int, schema.Offering) *Qualification) {
	t.Helper()
	bt := x.newBatcher()
	for i, o := range offers {
		pub := "12D3KooWPub" + strconv.Itoa(i%pubs)
		bt.ops = append(bt.ops, op{id: docID(pub, o.ID), in: x.document(pub, "Cooperativa "+strconv.Itoa(i%pubs), o, qual(i, o))})
		if err := bt.maybeFlush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.flush(true); err != nil {
		t.Fatal(err)
	}
}
