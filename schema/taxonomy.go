package schema

import (
	"slices"
	"sync"
)

// TaxonomyTerm is one category of home-care service. The taxonomy is a
// two-level tree modelled on the categories of the WeMi (Milano) and WeRC
// (Reggio Calabria) catalogues, which citizens browse as a "funnel": first
// an icon for the top category, then a text button for the subcategory.
//
// Codes are part of the federated data (an offering names its category by
// code), so a code, once published, is never renamed or reused; terms may be
// added.
type TaxonomyTerm struct {
	Code          string   `json:"code"`             // stable, e.g. "anziani.assistenza-domiciliare"
	Parent        string   `json:"parent,omitempty"` // code of the parent; empty for a top category
	NameIT        string   `json:"name_it"`
	NameEN        string   `json:"name_en"`
	DescriptionIT string   `json:"description_it"`
	DescriptionEN string   `json:"description_en"`
	Icon          string   `json:"icon"`     // a name from TaxonomyIcons, mapped to an inline SVG by the UI
	Keywords      []string `json:"keywords"` // Italian synonyms and acronyms, to help search
}

// TaxonomyIcons lists the icon names a term may carry; the web UI has one
// inline SVG for each.
func TaxonomyIcons() []string {
	return []string{"child", "elderly", "wheelchair", "home", "paw", "health", "phone", "heart", "car", "meal"}
}

// taxonomyIndex is the parsed taxonomy table: built once, never changed.
type taxonomyIndex struct {
	terms    []TaxonomyTerm // display order: each top term followed by its children
	byCode   map[string]int
	top      []int
	children map[string][]int
}

var taxonomy = sync.OnceValue(func() *taxonomyIndex {
	terms := taxonomyTable()
	idx := &taxonomyIndex{byCode: make(map[string]int, len(terms)), children: map[string][]int{}}
	for _, t := range terms {
		if t.Icon == "" && t.Parent != "" {
			// Subcategories show their parent's icon unless they have
			// a more telling one.
			t.Icon = terms[idx.byCode[t.Parent]].Icon
		}
		i := len(idx.terms)
		idx.terms = append(idx.terms, t)
		idx.byCode[t.Code] = i
		if t.Parent == "" {
			idx.top = append(idx.top, i)
		} else {
			idx.children[t.Parent] = append(idx.children[t.Parent], i)
		}
	}
	return idx
})

func (t TaxonomyTerm) clone() TaxonomyTerm {
	t.Keywords = slices.Clone(t.Keywords)
	return t
}

func (x *taxonomyIndex) copies(is []int) []TaxonomyTerm {
	out := make([]TaxonomyTerm, len(is))
	for n, i := range is {
		out[n] = x.terms[i].clone()
	}
	return out
}

// Taxonomy returns every term, each top category followed by its
// subcategories. The slice is the caller's own copy.
func Taxonomy() []TaxonomyTerm {
	x := taxonomy()
	out := make([]TaxonomyTerm, len(x.terms))
	for i, t := range x.terms {
		out[i] = t.clone()
	}
	return out
}

// Term returns the term with the given code.
func Term(code string) (TaxonomyTerm, bool) {
	x := taxonomy()
	i, ok := x.byCode[code]
	if !ok {
		return TaxonomyTerm{}, false
	}
	return x.terms[i].clone(), true
}

// CategoryTerms returns the codes of an offering's categories (its main
// one and the others) and of all their ancestors, each once and sorted,
// and the known terms among them in the order met: what indexing an
// offering reads of the taxonomy.
func CategoryTerms(category string, others []string) (codes []string, terms []TaxonomyTerm) {
	seen := map[string]bool{}
	for _, code := range append([]string{category}, others...) {
		for code != "" && !seen[code] {
			seen[code] = true
			codes = append(codes, code)
			t, ok := Term(code)
			if !ok {
				break
			}
			terms = append(terms, t)
			code = t.Parent
		}
	}
	slices.Sort(codes)
	return codes, terms
}

// TermParent returns the code of the parent of the term with code (empty
// for a top category), without copying the term: for hot paths.
func TermParent(code string) (string, bool) {
	x := taxonomy()
	i, ok := x.byCode[code]
	if !ok {
		return "", false
	}
	return x.terms[i].Parent, true
}

// TermName returns the Italian name of the term with code, without
// copying the term: for labels on hot paths.
func TermName(code string) (string, bool) {
	x := taxonomy()
	i, ok := x.byCode[code]
	if !ok {
		return "", false
	}
	return x.terms[i].NameIT, true
}

// KnownTerm reports whether code is a term of the taxonomy, without copying it.
func KnownTerm(code string) bool {
	_, ok := taxonomy().byCode[code]
	return ok
}

// TopTerms returns the top categories in display order.
func TopTerms() []TaxonomyTerm {
	x := taxonomy()
	return x.copies(x.top)
}

// Children returns the subcategories of code in display order, or nil if
// code has none or is unknown.
func Children(code string) []TaxonomyTerm {
	x := taxonomy()
	is, ok := x.children[code]
	if !ok {
		return nil
	}
	return x.copies(is)
}

// taxonomyTable is the source of the taxonomy. It returns a fresh slice, so
// no caller can change what another sees.
func taxonomyTable() []TaxonomyTerm {
	return []TaxonomyTerm{
		// --- Bambini e ragazzi
		{Code: "bambini", NameIT: "Bambini e ragazzi", NameEN: "Children and young people", Icon: "child",
			DescriptionIT: "Cura, educazione e tempo libero di bambini e ragazzi, a casa e nel tragitto verso la scuola.",
			DescriptionEN: "Care, education and leisure for children and teenagers, at home and on the way to school.",
			Keywords:      []string{"figli", "minori", "infanzia", "adolescenti", "famiglia"}},
		{Code: "bambini.babysitter", Parent: "bambini", NameIT: "Baby sitter a domicilio", NameEN: "Babysitting at home",
			DescriptionIT: "Una persona qualificata si prende cura dei bambini a casa, di giorno, di sera o per poche ore.",
			DescriptionEN: "A qualified person looks after children at home, by day, in the evening or for a few hours.",
			Keywords:      []string{"babysitter", "tata", "bambinaia", "custodia bambini"}},
		{Code: "bambini.doposcuola", Parent: "bambini", NameIT: "Doposcuola e aiuto compiti", NameEN: "After-school and homework help",
			DescriptionIT: "Sostegno nello studio e nei compiti, a casa o in piccoli gruppi.",
			DescriptionEN: "Help with studying and homework, at home or in small groups.",
			Keywords:      []string{"compiti", "ripetizioni", "studio", "scuola"}},
		{Code: "bambini.accompagnamento-scuola", Parent: "bambini", NameIT: "Accompagnamento a scuola", NameEN: "Walking children to school",
			DescriptionIT: "Accompagnamento dei bambini da casa a scuola e ritorno, a piedi o con i mezzi.",
			DescriptionEN: "Taking children from home to school and back, on foot or by public transport.",
			Keywords:      []string{"pedibus", "tragitto", "uscita scuola"}},
		{Code: "bambini.educativa-domiciliare", Parent: "bambini", NameIT: "Educativa domiciliare", NameEN: "Home educational support",
			DescriptionIT: "Un educatore affianca il minore e la famiglia a casa in un percorso concordato con i servizi.",
			DescriptionEN: "An educator works with the child and family at home on a plan agreed with social services.",
			Keywords:      []string{"educatore", "ADM", "assistenza domiciliare minori"}},
		{Code: "bambini.tempo-libero", Parent: "bambini", NameIT: "Gioco e tempo libero", NameEN: "Play and leisure",
			DescriptionIT: "Attività ricreative, laboratori e uscite per bambini e ragazzi.",
			DescriptionEN: "Recreational activities, workshops and outings for children and teenagers.",
			Keywords:      []string{"laboratori", "animazione", "centro estivo", "gioco"}},
		{Code: "bambini.sostegno-genitori", Parent: "bambini", NameIT: "Sostegno alla genitorialità", NameEN: "Parenting support",
			DescriptionIT: "Ascolto e consiglio per genitori, anche nei primi mesi di vita del bambino.",
			DescriptionEN: "Listening and advice for parents, including in the baby's first months.",
			Keywords:      []string{"genitori", "neomamme", "puerperio", "consulenza famiglia"}},

		// --- Anziani e persone non autosufficienti
		{Code: "anziani", NameIT: "Anziani e persone non autosufficienti", NameEN: "Older and dependent people", Icon: "elderly",
			DescriptionIT: "Aiuto a casa per chi non è più del tutto autonomo, e sollievo per chi lo assiste.",
			DescriptionEN: "Help at home for people who can no longer fully manage alone, and respite for their carers.",
			Keywords:      []string{"anziano", "terza età", "non autosufficiente", "fragile"}},
		{Code: "anziani.assistenza-domiciliare", Parent: "anziani", NameIT: "Assistenza domiciliare", NameEN: "Home care",
			DescriptionIT: "Aiuto nelle attività quotidiane: alzarsi, vestirsi, mangiare, tenere in ordine la casa.",
			DescriptionEN: "Help with daily living: getting up, dressing, eating, keeping the home in order.",
			Keywords:      []string{"SAD", "aiuto domestico", "assistenza a casa", "ADI"}},
		{Code: "anziani.igiene-personale", Parent: "anziani", NameIT: "Aiuto per l'igiene personale", NameEN: "Personal hygiene help",
			DescriptionIT: "Aiuto per il bagno, la doccia e la cura della persona.",
			DescriptionEN: "Help with bathing, showering and personal care.",
			Keywords:      []string{"bagno", "doccia", "igiene", "cura della persona"}},
		{Code: "anziani.assistenza-notturna", Parent: "anziani", NameIT: "Assistenza notturna", NameEN: "Night care",
			DescriptionIT: "Presenza di un operatore durante la notte, a casa o in ospedale.",
			DescriptionEN: "A care worker present through the night, at home or in hospital.",
			Keywords:      []string{"notte", "veglia", "assistenza ospedaliera"}},
		{Code: "anziani.custode-sociale", Parent: "anziani", NameIT: "Custode sociale", NameEN: "Social concierge",
			DescriptionIT: "Una figura di riferimento nel quartiere o nel condominio che passa a trovare, ascolta e segnala i bisogni.",
			DescriptionEN: "A reference person in the neighbourhood or building who drops by, listens and reports needs.",
			Keywords:      []string{"portierato sociale", "quartiere", "condominio", "vicinato"}},
		{Code: "anziani.teleassistenza", Parent: "anziani", NameIT: "Teleassistenza e telesoccorso", NameEN: "Telecare and alarm",
			DescriptionIT: "Un dispositivo o un numero sempre attivo per chiedere aiuto in caso di bisogno.",
			DescriptionEN: "A device or an always-on number to call for help when needed.",
			Keywords:      []string{"telesoccorso", "allarme", "pulsante", "emergenza"}, Icon: "phone"},
		{Code: "anziani.sollievo-caregiver", Parent: "anziani", NameIT: "Sollievo per chi assiste", NameEN: "Respite for family carers",
			DescriptionIT: "Un operatore sostituisce per qualche ora il familiare che assiste, perché possa riposare.",
			DescriptionEN: "A care worker stands in for a few hours so that the family carer can rest.",
			Keywords:      []string{"caregiver familiare", "sollievo", "riposo", "sostituzione"}},

		// --- Disabilità
		{Code: "disabilita", NameIT: "Disabilità", NameEN: "Disability", Icon: "wheelchair",
			DescriptionIT: "Servizi a casa per persone con disabilità e per le loro famiglie.",
			DescriptionEN: "Home services for people with disabilities and their families.",
			Keywords:      []string{"disabile", "handicap", "invalidità", "legge 104"}},
		{Code: "disabilita.assistenza-educativa", Parent: "disabilita", NameIT: "Assistenza educativa domiciliare", NameEN: "Home educational assistance",
			DescriptionIT: "Un educatore a casa per sviluppare abilità e autonomie.",
			DescriptionEN: "An educator at home to build skills and independence.",
			Keywords:      []string{"educatore", "autismo", "abilità"}},
		{Code: "disabilita.vita-indipendente", Parent: "disabilita", NameIT: "Vita indipendente", NameEN: "Independent living",
			DescriptionIT: "Percorsi e assistenza personale per vivere in autonomia.",
			DescriptionEN: "Plans and personal assistance for living independently.",
			Keywords:      []string{"autonomia", "dopo di noi", "assistente personale"}},
		{Code: "disabilita.ausili-casa", Parent: "disabilita", NameIT: "Ausili e adattamento della casa", NameEN: "Aids and home adaptation",
			DescriptionIT: "Consulenza e installazione di ausili, domotica e piccoli adattamenti per muoversi in casa.",
			DescriptionEN: "Advice on and fitting of aids, home automation and small adaptations to move around the home.",
			Keywords:      []string{"ausili", "barriere architettoniche", "domotica", "montascale"}, Icon: "home"},
		{Code: "disabilita.sollievo-famiglie", Parent: "disabilita", NameIT: "Sollievo per le famiglie", NameEN: "Respite for families",
			DescriptionIT: "Presenza di un operatore per qualche ora o qualche giorno, per dare respiro alla famiglia.",
			DescriptionEN: "A care worker present for a few hours or days, to give the family a break.",
			Keywords:      []string{"sollievo", "weekend", "respite"}},

		// --- Casa
		{Code: "casa", NameIT: "Casa", NameEN: "Home", Icon: "home",
			DescriptionIT: "Pulizie, piccole riparazioni, spesa e commissioni per chi fatica a farle da sé.",
			DescriptionEN: "Cleaning, small repairs, shopping and errands for those who struggle to do them alone.",
			Keywords:      []string{"domestico", "faccende", "abitazione"}},
		{Code: "casa.pulizie", Parent: "casa", NameIT: "Pulizie domestiche", NameEN: "Home cleaning",
			DescriptionIT: "Pulizia ordinaria o straordinaria della casa.",
			DescriptionEN: "Regular or one-off cleaning of the home.",
			Keywords:      []string{"pulizia", "colf", "igiene della casa", "sanificazione"}},
		{Code: "casa.piccole-riparazioni", Parent: "casa", NameIT: "Piccole riparazioni", NameEN: "Small repairs",
			DescriptionIT: "Piccoli lavori di manutenzione: lampadine, rubinetti, mobili, tapparelle.",
			DescriptionEN: "Small maintenance jobs: light bulbs, taps, furniture, shutters.",
			Keywords:      []string{"manutenzione", "tuttofare", "idraulico", "elettricista"}},
		{Code: "casa.spesa-domicilio", Parent: "casa", NameIT: "Spesa a domicilio", NameEN: "Grocery shopping delivered",
			DescriptionIT: "Qualcuno fa la spesa e la porta a casa.",
			DescriptionEN: "Someone does the grocery shopping and brings it home.",
			Keywords:      []string{"spesa", "consegna", "alimentari", "supermercato"}},
		{Code: "casa.lavanderia", Parent: "casa", NameIT: "Lavanderia e stiratura", NameEN: "Laundry and ironing",
			DescriptionIT: "Ritiro, lavaggio e stiratura di biancheria e vestiti.",
			DescriptionEN: "Collection, washing and ironing of linen and clothes.",
			Keywords:      []string{"bucato", "stiro", "biancheria"}},
		{Code: "casa.commissioni", Parent: "casa", NameIT: "Commissioni e pratiche", NameEN: "Errands and paperwork",
			DescriptionIT: "Pagamento di bollette, ritiro di documenti, piccole pratiche negli uffici.",
			DescriptionEN: "Paying bills, collecting documents, simple paperwork at public offices.",
			Keywords:      []string{"bollette", "posta", "uffici", "disbrigo pratiche"}},

		// --- Animali domestici
		{Code: "animali", NameIT: "Animali domestici", NameEN: "Pets", Icon: "paw",
			DescriptionIT: "Cura degli animali di chi non può occuparsene da sé.",
			DescriptionEN: "Care of the pets of people who cannot look after them alone.",
			Keywords:      []string{"cane", "gatto", "animale", "pet"}},
		{Code: "animali.dog-sitter", Parent: "animali", NameIT: "Dog sitter e passeggiate", NameEN: "Dog sitting and walking",
			DescriptionIT: "Passeggiate quotidiane e compagnia per il cane.",
			DescriptionEN: "Daily walks and company for the dog.",
			Keywords:      []string{"dogsitter", "passeggiata cane", "dog walker"}},
		{Code: "animali.pet-sitter", Parent: "animali", NameIT: "Pet sitter a domicilio", NameEN: "Pet sitting at home",
			DescriptionIT: "Cibo, acqua, lettiera e compagnia per gli animali in casa.",
			DescriptionEN: "Food, water, litter and company for pets at home.",
			Keywords:      []string{"petsitter", "gatti", "accudimento animali"}},
		{Code: "animali.veterinario", Parent: "animali", NameIT: "Accompagnamento dal veterinario", NameEN: "Trips to the vet",
			DescriptionIT: "Accompagnamento dell'animale alle visite veterinarie.",
			DescriptionEN: "Taking the pet to veterinary appointments.",
			Keywords:      []string{"veterinario", "visita", "vaccini"}},
		{Code: "animali.toelettatura", Parent: "animali", NameIT: "Toelettatura a domicilio", NameEN: "Grooming at home",
			DescriptionIT: "Bagno, taglio del pelo e delle unghie a casa.",
			DescriptionEN: "Bathing, hair and nail trimming at home.",
			Keywords:      []string{"toelettatura", "lavaggio", "grooming"}},

		// --- Salute e cura a domicilio
		{Code: "salute", NameIT: "Salute e cura a domicilio", NameEN: "Health and care at home", Icon: "health",
			DescriptionIT: "Prestazioni sanitarie e di assistenza alla persona svolte a casa.",
			DescriptionEN: "Health and personal care services delivered at home.",
			Keywords:      []string{"sanitario", "cura", "assistenza", "domicilio"}},
		{Code: "salute.infermiere", Parent: "salute", NameIT: "Infermiere a domicilio", NameEN: "Home nursing",
			DescriptionIT: "Medicazioni, iniezioni, prelievi e controllo dei parametri a casa.",
			DescriptionEN: "Dressings, injections, blood samples and vital-sign checks at home.",
			Keywords:      []string{"infermiera", "medicazione", "iniezioni", "prelievo", "flebo"}},
		{Code: "salute.fisioterapia", Parent: "salute", NameIT: "Fisioterapia a domicilio", NameEN: "Physiotherapy at home",
			DescriptionIT: "Riabilitazione e ginnastica dolce a casa con un fisioterapista.",
			DescriptionEN: "Rehabilitation and gentle exercise at home with a physiotherapist.",
			Keywords:      []string{"fisioterapista", "riabilitazione", "massaggi", "ginnastica"}},
		{Code: "salute.assistente-familiare", Parent: "salute", NameIT: "Assistente familiare (badante)", NameEN: "Live-in or family care worker",
			DescriptionIT: "Un assistente familiare che vive in casa o viene ogni giorno per assistere la persona.",
			DescriptionEN: "A family care worker who lives in or comes every day to look after the person.",
			Keywords:      []string{"badante", "convivente", "assistente familiare", "colf"}},
		{Code: "salute.oss", Parent: "salute", NameIT: "Operatore socio-sanitario (OSS)", NameEN: "Health care assistant",
			DescriptionIT: "Un OSS qualificato per l'assistenza alla persona, anche allettata.",
			DescriptionEN: "A qualified health care assistant for personal care, including bedridden people.",
			Keywords:      []string{"OSS", "ASA", "operatore", "allettato"}},
		{Code: "salute.farmaci", Parent: "salute", NameIT: "Consegna farmaci", NameEN: "Medicine delivery",
			DescriptionIT: "Ritiro delle ricette e consegna dei farmaci a casa.",
			DescriptionEN: "Collecting prescriptions and delivering medicines home.",
			Keywords:      []string{"farmacia", "ricette", "medicine"}},

		// --- Compagnia e telecompagnia
		{Code: "compagnia", NameIT: "Compagnia e telecompagnia", NameEN: "Company and check-ins", Icon: "phone",
			DescriptionIT: "Compagnia di persona, al telefono o in videochiamata, contro la solitudine.",
			DescriptionEN: "Company in person, on the phone or by video call, against loneliness.",
			Keywords:      []string{"solitudine", "compagnia", "ascolto", "amicizia"}},
		{Code: "compagnia.visite", Parent: "compagnia", NameIT: "Compagnia a domicilio", NameEN: "Home visits",
			DescriptionIT: "Visite regolari per chiacchierare, leggere, giocare a carte.",
			DescriptionEN: "Regular visits to chat, read, play cards.",
			Keywords:      []string{"visita", "conversazione", "lettura"}, Icon: "heart"},
		{Code: "compagnia.telecompagnia", Parent: "compagnia", NameIT: "Telecompagnia", NameEN: "Telephone befriending",
			DescriptionIT: "Telefonate regolari per sapere come stai e fare due chiacchiere.",
			DescriptionEN: "Regular phone calls to check how you are and have a chat.",
			Keywords:      []string{"telefonata", "telefono amico", "chiamata"}},
		{Code: "compagnia.video-check-in", Parent: "compagnia", NameIT: "Video check-in programmati", NameEN: "Scheduled video check-ins",
			DescriptionIT: "Videochiamate a orari concordati su un computer che si accende da solo, con allerta se qualcosa non va.",
			DescriptionEN: "Video calls at agreed times on a computer that switches itself on, with an alert if something is wrong.",
			Keywords:      []string{"videochiamata", "difronte", "check-in", "monitoraggio"}},
		{Code: "compagnia.uscite", Parent: "compagnia", NameIT: "Uscite accompagnate", NameEN: "Accompanied outings",
			DescriptionIT: "Passeggiate, visite a parenti e amici, partecipazione a eventi del quartiere.",
			DescriptionEN: "Walks, visits to relatives and friends, going to neighbourhood events.",
			Keywords:      []string{"passeggiata", "socializzazione", "eventi"}},

		// --- Sostegno sociale e psicologico
		{Code: "sostegno", NameIT: "Sostegno sociale e psicologico", NameEN: "Social and psychological support", Icon: "heart",
			DescriptionIT: "Ascolto, orientamento ai servizi e sostegno psicologico per persone e famiglie.",
			DescriptionEN: "Listening, guidance to services and psychological support for people and families.",
			Keywords:      []string{"aiuto", "ascolto", "supporto"}},
		{Code: "sostegno.psicologico", Parent: "sostegno", NameIT: "Supporto psicologico", NameEN: "Psychological support",
			DescriptionIT: "Colloqui con uno psicologo, a casa o a distanza.",
			DescriptionEN: "Sessions with a psychologist, at home or remotely.",
			Keywords:      []string{"psicologo", "psicoterapia", "colloquio", "lutto"}},
		{Code: "sostegno.orientamento", Parent: "sostegno", NameIT: "Orientamento ai servizi", NameEN: "Guidance to services",
			DescriptionIT: "Aiuto a capire a quali servizi e contributi si ha diritto e come chiederli.",
			DescriptionEN: "Help to understand which services and benefits you are entitled to and how to apply.",
			Keywords:      []string{"segretariato sociale", "punto di prossimità", "contributi", "informazioni"}},
		{Code: "sostegno.mediazione-culturale", Parent: "sostegno", NameIT: "Mediazione linguistico-culturale", NameEN: "Language and cultural mediation",
			DescriptionIT: "Un mediatore aiuta a comunicare con servizi, scuole e medici.",
			DescriptionEN: "A mediator helps to communicate with services, schools and doctors.",
			Keywords:      []string{"mediatore", "interprete", "stranieri", "traduzione"}},
		{Code: "sostegno.auto-mutuo-aiuto", Parent: "sostegno", NameIT: "Gruppi di auto mutuo aiuto", NameEN: "Self-help groups",
			DescriptionIT: "Gruppi di persone che vivono la stessa situazione e si sostengono a vicenda.",
			DescriptionEN: "Groups of people in the same situation supporting each other.",
			Keywords:      []string{"gruppo", "caregiver", "condivisione"}},
		{Code: "sostegno.facilitazione-digitale", Parent: "sostegno", NameIT: "Facilitazione digitale", NameEN: "Digital help",
			DescriptionIT: "Aiuto a usare computer, telefono, SPID e servizi online.",
			DescriptionEN: "Help using a computer, phone, digital identity and online services.",
			Keywords:      []string{"SPID", "computer", "internet", "smartphone"}, Icon: "phone"},

		// --- Trasporto e accompagnamento
		{Code: "trasporto", NameIT: "Trasporto e accompagnamento", NameEN: "Transport and accompaniment", Icon: "car",
			DescriptionIT: "Accompagnamento e trasporto per chi non può spostarsi da solo.",
			DescriptionEN: "Accompaniment and transport for people who cannot travel alone.",
			Keywords:      []string{"trasporto", "auto", "spostamenti", "mobilità"}},
		{Code: "trasporto.visite-mediche", Parent: "trasporto", NameIT: "Accompagnamento a visite mediche", NameEN: "Trips to medical appointments",
			DescriptionIT: "Accompagnamento a visite, esami e terapie, con attesa e ritorno a casa.",
			DescriptionEN: "Accompaniment to appointments, tests and therapy, with waiting and the trip home.",
			Keywords:      []string{"ospedale", "ambulatorio", "terapie", "dialisi"}},
		{Code: "trasporto.sociale", Parent: "trasporto", NameIT: "Trasporto sociale", NameEN: "Community transport",
			DescriptionIT: "Trasporto con auto o pulmino verso centri diurni, uffici, negozi.",
			DescriptionEN: "Transport by car or minibus to day centres, offices, shops.",
			Keywords:      []string{"pulmino", "navetta", "centro diurno"}},
		{Code: "trasporto.mezzi-attrezzati", Parent: "trasporto", NameIT: "Trasporto con mezzi attrezzati", NameEN: "Wheelchair-accessible transport",
			DescriptionIT: "Veicoli con pedana o sollevatore per persone in carrozzina.",
			DescriptionEN: "Vehicles with ramp or lift for wheelchair users.",
			Keywords:      []string{"carrozzina", "pedana", "disabili"}, Icon: "wheelchair"},

		// --- Pasti a domicilio
		{Code: "pasti", NameIT: "Pasti a domicilio", NameEN: "Meals at home", Icon: "meal",
			DescriptionIT: "Pasti consegnati o preparati a casa.",
			DescriptionEN: "Meals delivered or cooked at home.",
			Keywords:      []string{"pranzo", "cena", "cibo", "mensa"}},
		{Code: "pasti.consegna", Parent: "pasti", NameIT: "Consegna pasti", NameEN: "Meal delivery",
			DescriptionIT: "Pasti pronti consegnati a casa ogni giorno o in alcuni giorni della settimana.",
			DescriptionEN: "Ready meals delivered home daily or on some days of the week.",
			Keywords:      []string{"pasti caldi", "consegna", "mensa a domicilio"}},
		{Code: "pasti.preparazione", Parent: "pasti", NameIT: "Preparazione pasti a casa", NameEN: "Cooking at home",
			DescriptionIT: "Un operatore cucina a casa, anche per più giorni.",
			DescriptionEN: "A care worker cooks at home, also for several days ahead.",
			Keywords:      []string{"cucinare", "cuoco", "preparazione"}},
		{Code: "pasti.diete-speciali", Parent: "pasti", NameIT: "Pasti per diete speciali", NameEN: "Special diets",
			DescriptionIT: "Pasti per diabetici, celiaci, diete morbide o frullate.",
			DescriptionEN: "Meals for diabetes, coeliac disease, soft or blended diets.",
			Keywords:      []string{"dieta", "celiachia", "diabete", "disfagia"}},
		{Code: "pasti.pranzi-condivisi", Parent: "pasti", NameIT: "Pranzi in compagnia", NameEN: "Shared meals",
			DescriptionIT: "Pranzi comunitari nel quartiere, con trasporto se serve.",
			DescriptionEN: "Community lunches in the neighbourhood, with transport if needed.",
			Keywords:      []string{"pranzo sociale", "condivisione", "quartiere"}, Icon: "heart"},
	}
}
