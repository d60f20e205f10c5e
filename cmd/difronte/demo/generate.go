package demo

import (
	"fmt"
	"math/rand/v2"

	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/schema"
)

var firstNames = []string{
	"Giuseppe", "Maria", "Giovanni", "Anna", "Antonio", "Giuseppina", "Francesco", "Rosa",
	"Mario", "Angela", "Luigi", "Giovanna", "Salvatore", "Teresa", "Vincenzo", "Lucia",
	"Pietro", "Carmela", "Domenico", "Caterina", "Carmelo", "Francesca", "Rocco", "Concetta",
	"Bruno", "Franca", "Sergio", "Adriana", "Renato", "Gabriella", "Enzo", "Nunzia",
}

var lastNames = []string{
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
	"Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
	"Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani",
	"Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli",
	"Scopelliti", "Foti", "Morabito", "Nucera", "Cotroneo", "Polimeni", "Laganà", "Zappia",
}

var streets = []string{
	"Via Roma", "Via Garibaldi", "Corso Italia", "Via Mazzini", "Via Cavour", "Via Dante Alighieri",
	"Via Marconi", "Piazza della Repubblica", "Via XX Settembre", "Viale della Libertà",
	"Via San Francesco", "Via Vittorio Veneto", "Corso Garibaldi", "Via Torino", "Via Milano",
	"Via dei Mille", "Via Aschenez", "Via Padova", "Viale Monza", "Via Giostra Vecchia",
}

// places are the municipalities the demo coop and the generators use: a
// Milanese and a Reggino coop area, as in the two pilot catalogues.
var places = []string{
	"015146", // Milano
	"015209", // Sesto San Giovanni
	"015077", // Cinisello Balsamo
	"108033", // Monza
	"080063", // Reggio di Calabria
	"080096", // Villa San Giovanni
	"080057", // Palmi
}

var relations = []string{"figlia", "figlio", "nipote", "vicina di casa", "fratello", "sorella", "medico di base"}

// Beneficiaries returns n valid beneficiaries (no id, no caregivers)
// generated from seed: the same seed gives the same records.
func Beneficiaries(seed int64, n int) []care.Beneficiary {
	r := rand.New(rand.NewPCG(uint64(seed), 0x62656e6566))
	out := make([]care.Beneficiary, 0, n)
	for i := range n {
		first, last := pick(r, firstNames), pick(r, lastNames)
		b := care.Beneficiary{
			Name:         first + " " + last,
			Address:      fmt.Sprintf("%s %d", pick(r, streets), 1+r.IntN(180)),
			Municipality: pick(r, places),
			BirthYear:    1925 + r.IntN(30),
			Phone:        phone(r),
			Fragility:    pickSome(r, care.Fragilities, 1+r.IntN(3)),
			Contacts: []care.Contact{{
				Kind: "family", Name: pick(r, firstNames) + " " + last,
				Relation: pick(r, relations[:6]), Phone: mobile(r),
			}},
			Consent: care.Consent{Given: true, Date: fmt.Sprintf("2025-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)),
				CollectedBy: "coordinatrice", Scope: "servizio di check-in e trattamento dei dati sanitari (art. 9 GDPR)"},
		}
		if i%3 == 0 {
			b.Contacts = append(b.Contacts, care.Contact{Kind: "gp", Name: "Dott. " + pick(r, lastNames), Phone: phone(r)})
		}
		out = append(out, b)
	}
	return out
}

// offeringKinds are the services the generators and the demo publish: a
// taxonomy code with a name and a description a coop would write.
var offeringKinds = []struct {
	category, name, description string
	paid                        bool
	unit                        schema.CostUnit
}{
	{"anziani.assistenza-domiciliare", "Assistenza domiciliare leggera", "Aiuto a casa per alzarsi, vestirsi, preparare i pasti e tenere in ordine.", true, schema.PerHour},
	{"anziani.igiene-personale", "Aiuto per il bagno", "Un'operatrice aiuta a fare il bagno o la doccia in sicurezza.", true, schema.PerVisit},
	{"anziani.custode-sociale", "Custode sociale di quartiere", "Una persona di riferimento passa a trovare, ascolta e segnala i bisogni ai servizi.", false, ""},
	{"compagnia.video-check-in", "Video check-in quotidiano", "Una chiamata video ogni giorno con un caregiver della cooperativa, dal computer di casa.", false, ""},
	{"compagnia.visite", "Compagnia a domicilio", "Visite di compagnia per leggere, chiacchierare e fare due passi.", true, schema.PerVisit},
	{"casa.spesa-domicilio", "Spesa a domicilio", "Facciamo la spesa e la portiamo a casa, anche i farmaci da banco.", true, schema.Once},
	{"trasporto.visite-mediche", "Accompagnamento alle visite", "Accompagniamo in auto alle visite mediche e agli esami, con attesa.", true, schema.PerVisit},
	{"pasti.consegna", "Pasti caldi a domicilio", "Un pasto caldo consegnato a casa a mezzogiorno, anche per diete speciali.", true, schema.PerDay},
	{"sostegno.facilitazione-digitale", "Facilitazione digitale", "Aiuto per usare il computer, lo SPID e i servizi online del Comune.", false, ""},
	{"salute.infermiere", "Infermiere a domicilio", "Medicazioni, iniezioni e prelievi a casa, su prescrizione medica.", true, schema.PerVisit},
	{"disabilita.vita-indipendente", "Assistente personale", "Un assistente personale per la vita indipendente, a ore.", true, schema.PerHour},
	{"bambini.doposcuola", "Aiuto compiti", "Sostegno nei compiti a casa, per bambini delle elementari e delle medie.", true, schema.PerHour},
	{"animali.dog-sitter", "Passeggiate con il cane", "Portiamo a passeggio il cane di chi non può uscire.", true, schema.PerVisit},
	{"anziani.sollievo-caregiver", "Sollievo per chi assiste", "Un'operatrice sostituisce per qualche ora il familiare che assiste.", true, schema.PerHour},
	{"anziani.assistenza-notturna", "Badante di notte", "Un'assistente familiare resta la notte a casa con la persona anziana.", true, schema.PerDay},
	{"salute.fisioterapia", "Fisioterapia a domicilio", "Sedute di fisioterapia e riabilitazione a casa, con un fisioterapista.", true, schema.PerVisit},
}

// Offerings returns n valid offerings with UUIDs generated from seed: the
// same seed gives the same records.
func Offerings(seed int64, n int) []schema.Offering {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6f66666572))
	out := make([]schema.Offering, 0, n)
	for i := range n {
		k := offeringKinds[r.IntN(len(offeringKinds))]
		area := places[r.IntN(len(places))]
		o := schema.Offering{
			ID:          uuid(r),
			Name:        k.name,
			Description: k.description,
			Category:    k.category,
			Cost:        schema.Cost{Type: schema.CostFree},
			Delivery:    schema.DeliveryIndividual,
			Areas:       []string{area},
			Languages:   []string{"it"},
			Schedule: schema.Schedule{Description: "Dal lunedì al venerdì, 8-18",
				Weekly: []schema.WeeklyHours{{Days: []schema.Weekday{schema.Monday, schema.Tuesday, schema.Wednesday, schema.Thursday, schema.Friday}, Opens: "08:00", Closes: "18:00"}}},
			Contact: schema.Contact{Name: "Sportello della cooperativa", Phone: phone(r), Email: fmt.Sprintf("servizi%d@coop.example", i%97)},
			Status:  schema.StatusActive,
		}
		if n > len(offeringKinds) {
			o.Name = fmt.Sprintf("%s (%d)", k.name, i+1)
		}
		if k.paid {
			o.Cost = schema.Cost{Type: schema.CostPaid, Description: "Contributo ridotto per ISEE sotto 15.000 euro",
				Options: []schema.CostOption{{Option: "Tariffa ordinaria", AmountCents: int64(800 + 50*r.IntN(30)), Currency: "EUR", Unit: k.unit}}}
		}
		if r.IntN(4) == 0 {
			o.Languages = append(o.Languages, pick(r, []string{"en", "ro", "uk", "ar", "es"}))
		}
		if r.IntN(5) == 0 {
			o.Delivery = schema.DeliveryShared
		}
		if r.IntN(3) == 0 {
			o.Eligibility = schema.Eligibility{Description: "Persone sopra i 65 anni", MinAge: 65}
		}
		out = append(out, o)
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickSome returns k distinct elements of xs in their original order.
func pickSome(r *rand.Rand, xs []string, k int) []string {
	idx := r.Perm(len(xs))[:min(k, len(xs))]
	out := make([]string, 0, len(idx))
	for i, x := range xs {
		for _, j := range idx {
			if i == j {
				out = append(out, x)
			}
		}
	}
	return out
}

func phone(r *rand.Rand) string {
	return fmt.Sprintf("+39 0%d %07d", 2+r.IntN(8)*10, r.IntN(10_000_000))
}

func mobile(r *rand.Rand) string {
	return fmt.Sprintf("+39 3%02d %07d", 20+r.IntN(80), r.IntN(10_000_000))
}

func uuid(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
