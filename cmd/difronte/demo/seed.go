package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// Options says how Seed creates the demo accounts.
type Options struct {
	// Password is the password of every demo account. Empty: one password
	// is generated for all of them and handed to OnAccount. A demo node
	// started with DIFRONTE_ADMIN_PASSWORD thus logs in with the same
	// password in every role.
	Password string
	// OnAccount is told each demo account created, with its password when
	// the password was generated (empty when the caller chose it).
	OnAccount func(username, password string)
	// Seed varies the generated records; 0 gives the usual demo.
	Seed int64
}

// Result says what Seed did.
type Result struct {
	Skipped       bool // the node already held records
	Beneficiaries int
	Caregivers    int
	Terminals     int
	Offerings     int
	Accounts      []string // usernames created
}

// system is who seeds: an admin acting for the node itself, so the audit
// log shows where the demo records came from.
var system = auth.Actor{Username: auth.SystemUser, Role: auth.Admin, Remote: "demo"}

// demoCaregivers are the coop's peer caregivers: two in Milan, two in
// Reggio Calabria, each with an account.
var demoCaregivers = []struct{ username, name, langs, availability string }{
	{"giulia.ferrari", "Giulia Ferrari", "it,en", "lunedì-venerdì 9-13"},
	{"marco.colombo", "Marco Colombo", "it", "pomeriggi e sabato mattina"},
	{"carmela.foti", "Carmela Foti", "it,es", "lunedì-sabato 8-14"},
	{"rocco.morabito", "Rocco Morabito", "it,en,ro", "martedì, giovedì, sabato"},
}

// Seed fills an empty node with a demo coop: caregivers with accounts,
// beneficiaries with fragility, contacts and consent, terminals in every
// lifecycle state, and offerings across the taxonomy. It does nothing when
// the node already holds any private record or own offering, so it is safe
// to call at every start.
func Seed(ctx context.Context, reg *care.Service, own *catalogue.Own, accounts *auth.Service, o Options) (Result, error) {
	c := reg.Counts()
	if c["beneficiaries"]+c["caregivers"]+c["terminals"] > 0 || len(own.All()) > 0 {
		return Result{Skipped: true}, nil
	}
	var res Result
	// Caregivers first: beneficiaries name them, accounts link to them.
	cgIDs, err := seedCaregivers(ctx, reg, &res)
	if err != nil {
		return res, err
	}
	if err := seedAccounts(ctx, accounts, cgIDs, o, &res); err != nil {
		return res, err
	}
	bIDs, err := seedBeneficiaries(ctx, reg, cgIDs, o.Seed, &res)
	if err != nil {
		return res, err
	}
	if err := seedTerminals(ctx, reg, bIDs, &res); err != nil {
		return res, err
	}
	return res, seedOfferings(ctx, own, o.Seed, &res)
}

// seedCaregivers creates demoCaregivers and returns their ids.
func seedCaregivers(ctx context.Context, reg *care.Service, res *Result) ([]string, error) {
	var cgIDs []string
	for _, d := range demoCaregivers {
		cg, err := reg.CreateCaregiver(ctx, system, care.Caregiver{
			Name: d.name, Phone: fmt.Sprintf("+39 347 %07d", 1000000+len(cgIDs)*1234567),
			Email: d.username + "@coop.example", Languages: strings.Split(d.langs, ","),
			Availability: d.availability, Username: d.username,
		})
		if err != nil {
			return cgIDs, fmt.Errorf("demo caregiver: %w", err)
		}
		cgIDs = append(cgIDs, cg.ID)
		res.Caregivers++
	}
	return cgIDs, nil
}

// seedAccounts creates an operator, a refurbisher and one account per demo
// caregiver, all with one password: o.Password, or one generated and
// handed to o.OnAccount.
func seedAccounts(ctx context.Context, accounts *auth.Service, cgIDs []string, o Options, res *Result) error {
	pw, generated := o.Password, false
	if pw == "" {
		pw, generated = auth.NewPassword(), true
	}
	type acct struct {
		username, display, caregiverID string
		role                           auth.Role
	}
	accs := []acct{
		{"operatore", "Sportello di prossimità", "", auth.Operator},
		{"officina", "Laboratorio di ricondizionamento", "", auth.Refurbisher},
	}
	for i, d := range demoCaregivers {
		accs = append(accs, acct{d.username, d.name, cgIDs[i], auth.Caregiver})
	}
	for _, a := range accs {
		if _, ok := accounts.Get(a.username); ok {
			continue
		}
		if _, err := accounts.Create(ctx, auth.Account{Username: a.username, Role: a.role, DisplayName: a.display, CaregiverID: a.caregiverID, Lang: "it"}, pw); err != nil {
			return fmt.Errorf("demo account %s: %w", a.username, err)
		}
		res.Accounts = append(res.Accounts, a.username)
		if o.OnAccount != nil {
			shown := ""
			if generated {
				shown = pw
			}
			o.OnAccount(a.username, shown)
		}
	}
	return nil
}

// seedBeneficiaries creates eight beneficiaries and returns their ids: the
// first four live in the Milan area and are followed by the Milanese
// caregivers, the others in the Reggio area.
func seedBeneficiaries(ctx context.Context, reg *care.Service, cgIDs []string, seed int64, res *Result) ([]string, error) {
	bs := Beneficiaries(seed+1, 8)
	milan := []string{"015146", "015146", "015209", "108033"}
	reggio := []string{"080063", "080063", "080096", "080057"}
	notes := []string{
		"Vive sola al terzo piano senza ascensore; preferisce le chiamate al mattino.",
		"Ipoacusia: parlare lentamente e guardando la videocamera.",
		"Dimesso dall'ospedale a marzo; controllare che prenda la terapia.",
		"", "Ha un gatto; la figlia passa la domenica.", "", "Diabete di tipo 2.", "",
	}
	var bIDs []string
	for i, b := range bs {
		if i < 4 {
			b.Municipality = milan[i]
			b.Caregivers = []string{cgIDs[i%2]}
		} else {
			b.Municipality = reggio[i-4]
			b.Caregivers = []string{cgIDs[2+i%2]}
		}
		if i == 2 {
			b.Caregivers = append(b.Caregivers, cgIDs[(i+1)%2])
		}
		b.Notes = notes[i]
		if i == 7 {
			// One who has not signed yet: the UI shows what is missing.
			b.Consent = care.Consent{}
		}
		out, err := reg.CreateBeneficiary(ctx, system, b)
		if err != nil {
			return bIDs, fmt.Errorf("demo beneficiary: %w", err)
		}
		bIDs = append(bIDs, out.ID)
		res.Beneficiaries++
	}
	return bIDs, nil
}

// seedTerminals creates one terminal in each lifecycle state.
func seedTerminals(ctx context.Context, reg *care.Service, bIDs []string, res *Result) error {
	terms := []care.Terminal{
		{Label: "DF-0001", Model: "Lenovo ThinkPad T440", Year: 2014, CPU: "Intel Core i5-4300U", RAMMB: 8192, DiskGB: 240, State: "in_service", Beneficiary: bIDs[0], Notes: "Webcam esterna Logitech."},
		{Label: "DF-0002", Model: "Dell Latitude E7450", Year: 2015, CPU: "Intel Core i5-5300U", RAMMB: 8192, DiskGB: 256, State: "delivered", Beneficiary: bIDs[4]},
		{Label: "DF-0003", Model: "HP EliteBook 840 G2", Year: 2015, CPU: "Intel Core i5-5200U", RAMMB: 4096, DiskGB: 128, State: "ready"},
		{Label: "DF-0004", Model: "Fujitsu Esprimo Q920", Year: 2014, CPU: "Intel Core i3-4130T", RAMMB: 4096, DiskGB: 500, State: "installing", Notes: "Sostituire il disco con un SSD."},
		{Label: "DF-0005", Model: "Acer Aspire E5-571", Year: 2014, CPU: "Intel Core i3-4005U", RAMMB: 4096, State: "recovered", Notes: "Donato da un ufficio comunale."},
		{Label: "DF-0006", Model: "Asus X551M", Year: 2013, CPU: "Intel Celeron N2830", RAMMB: 2048, DiskGB: 500, State: "retired", Notes: "Scheda madre guasta: recuperati RAM e alimentatore."},
		{Label: "DF-0007", Model: "Lenovo ThinkPad X230", Year: 2012, CPU: "Intel Core i5-3320M", RAMMB: 4096, DiskGB: 320, State: "wiping"},
		{Label: "DF-0008", Model: "Dell OptiPlex 7010", Year: 2013, CPU: "Intel Core i5-3470", RAMMB: 8192, DiskGB: 500, State: "configuring"},
		{Label: "DF-0009", Model: "HP ProBook 450 G1", Year: 2014, CPU: "Intel Core i3-4000M", RAMMB: 4096, DiskGB: 500, State: "testing", Notes: "Microfono debole: provare una cuffia."},
		{Label: "DF-0010", Model: "Toshiba Satellite C50", Year: 2014, CPU: "Intel Celeron N2820", RAMMB: 4096, DiskGB: 500, State: "pickup", Beneficiary: bIDs[1], Notes: "La signora si trasferisce dalla figlia."},
		{Label: "DF-0011", Model: "Samsung NP300E5A", Year: 2011, CPU: "Intel Pentium B950", RAMMB: 2048, State: "recycled", Notes: "Conferito all'isola ecologica."},
	}
	for _, t := range terms {
		if _, err := reg.CreateTerminal(ctx, system, t); err != nil {
			return fmt.Errorf("demo terminal %s: %w", t.Label, err)
		}
		res.Terminals++
	}
	return nil
}

// seedOfferings imports one offering per kind, across the taxonomy, in
// both areas.
func seedOfferings(ctx context.Context, own *catalogue.Own, seed int64, res *Result) error {
	for i, off := range Offerings(seed+2, 6) {
		k := offeringKinds[[]int{0, 3, 5, 6, 7, 8}[i]]
		off.Name, off.Description, off.Category = k.name, k.description, k.category
		off.Cost = schema.Cost{Type: schema.CostFree}
		if k.paid {
			off.Cost = schema.Cost{Type: schema.CostPaid, Options: []schema.CostOption{{Option: "Tariffa ordinaria", AmountCents: 1800, Currency: "EUR", Unit: k.unit}}}
		}
		off.Areas = []string{"015146", "015209"}
		if i%2 == 1 {
			off.Areas = []string{"080063", "080096"}
		}
		off.ID = ""
		if _, err := own.Import(ctx, system, off); err != nil {
			return fmt.Errorf("demo offering: %w", err)
		}
		res.Offerings++
	}
	return nil
}
