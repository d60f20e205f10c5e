package main

// The packages the mutations are checked against. The root package node
// holds the cross-service tests (backup round trip, sessions over HTTP).
var (
	pSchema   = []string{"./schema"}
	pTopics   = []string{"./federation/topics"}
	pReplica  = []string{"./federation/replica"}
	pCatchup  = []string{"./federation/catchup"}
	pAuth     = []string{"./node/auth"}
	pAudit    = []string{"./node/audit"}
	pCare     = []string{"./node/care"}
	pCalls    = []string{"./node/calls"}
	pEscalate = []string{"./node/escalation"}
	pBackup   = []string{"./node/store", "./node"}
)

// mutations are the checks that keep people safe or the federation honest:
// signatures, marks, roles, the audit chain, credentials, call grants,
// escalation routing and backup namespaces. Each To keeps the file
// compiling; a mutant that does not compile is reported as invalid.
var mutations = []Mutation{
	// schema: signed entries and credentials.
	{Name: "entry-signature", What: "entry signature not verified", File: "schema/entry.go",
		From: "if !ed25519.Verify(pub, signingInput(e.appendSigned(nil)), e.Sig) {",
		To:   "if false && !ed25519.Verify(pub, signingInput(e.appendSigned(nil)), e.Sig) {", Pkgs: pSchema},
	{Name: "entry-canonical", What: "non-canonical entry encoding accepted", File: "schema/entry.go",
		From: "if !e.encodes(b) {",
		To:   "if false && !e.encodes(b) {", Pkgs: pSchema},
	{Name: "credential-alg", What: "credential header alg not checked", File: "schema/credential.go",
		From: "if alg != string(jose.EdDSA) {",
		To:   "if false && alg != string(jose.EdDSA) {", Pkgs: pSchema},
	{Name: "credential-typ", What: "credential header typ not checked", File: "schema/credential.go",
		From: "if typ != CredentialTyp {",
		To:   "if false && typ != CredentialTyp {", Pkgs: pSchema},
	{Name: "credential-embedded-key", What: "credential with an embedded key accepted", File: "schema/credential.go",
		From: "if len(jws.Signatures) != 1 || jws.Signatures[0].Protected.JSONWebKey != nil {",
		To:   "if len(jws.Signatures) != 1 {", Pkgs: pSchema},
	{Name: "credential-signature", What: "credential signature not verified", File: "schema/credential.go",
		From: "p, err := t.jws.Verify(pub)",
		To:   "p, err := t.jws.UnsafePayloadWithoutVerification(), error(nil)", Pkgs: pSchema},
	{Name: "credential-key-issuer", What: "a key signs for an issuer that does not own it", File: "schema/trust.go",
		From: "if issuer != k.Issuer {",
		To:   "if false && issuer != k.Issuer {", Pkgs: pSchema},
	{Name: "credential-key-retired", What: "a retired key still signs", File: "schema/trust.go",
		From: "if k.Retired != 0 && from.Unix() >= k.Retired {",
		To:   "if false && k.Retired != 0 && from.Unix() >= k.Retired {", Pkgs: pSchema},
	{Name: "credential-territory", What: "qualification outside the key's territory accepted", File: "schema/trust.go",
		From: "if !k.InTerritory(m) {",
		To:   "if false && !k.InTerritory(m) {", Pkgs: pSchema},
	{Name: "credential-expiry", What: "expired qualification still current", File: "schema/trust.go",
		From: "if !now.Before(until) {",
		To:   "if false && !now.Before(until) {", Pkgs: pSchema},
	{Name: "status-bit", What: "revocation status bit never read as set", File: "schema/statuslist.go",
		From: "return bits[i/8]&(0x80>>(i%8)) != 0",
		To:   "return false", Pkgs: pSchema},

	// federation/topics: the gossip validator.
	{Name: "gossip-author", What: "gossip relays an entry authored by someone else", File: "federation/topics/validate.go",
		From: "if len(author) == 0 || peer.ID(author).String() != e.Publisher {",
		To:   "if len(author) == 0 {", Pkgs: pTopics},
	{Name: "gossip-topic-kind", What: "entry of a kind that belongs to another topic accepted", File: "federation/topics/validate.go",
		From: "if !Carries(topic, e.Kind) {",
		To:   "if false && !Carries(topic, e.Kind) {", Pkgs: pTopics},
	{Name: "gossip-body", What: "entry body not validated on gossip", File: "federation/topics/validate.go",
		From: "if err := schema.ValidateBody(e.Kind, e.Key, e.Body); err != nil {",
		To:   "if err := schema.ValidateBody(e.Kind, e.Key, e.Body); false && err != nil {", Pkgs: pTopics},
	{Name: "gossip-own-echo", What: "own entry echoed back is applied from outside", File: "federation/topics/validate.go",
		From: `return pubsub.ValidationIgnore, nil, Echo, "own entry echoed back"`,
		To:   `return pubsub.ValidationAccept, e, Accepted, ""`, Pkgs: pTopics},

	// federation/replica: which entries replace which, marks.
	{Name: "replica-stale", What: "an older seq replaces a newer entry", File: "federation/replica/replica.go",
		From: "if ok && held.seq > e.Seq {",
		To:   "if false && held.seq > e.Seq {", Pkgs: pReplica},
	{Name: "replica-below-mark", What: "an entry at or below the publisher's mark accepted", File: "federation/replica/replica.go",
		From: "p != nil && e.Seq <= p.mark {",
		To:   "p != nil && e.Seq < p.mark {", Pkgs: pReplica},

	// federation/catchup: what a responder vouches for, what a requester takes.
	{Name: "catchup-vouch-above-sent", What: "responder vouches for a mark above what it sent", File: "federation/catchup/serve.go",
		From: "m := min(ps.Mark, last)",
		To:   "m := max(ps.Mark, last)", Pkgs: pCatchup},
	{Name: "catchup-vouch-past-skipped", What: "responder vouches past an entry it skipped", File: "federation/catchup/serve.go",
		From: "m = min(m, skipped-1)",
		To:   "m = max(m, skipped-1)", Pkgs: pCatchup},
	{Name: "catchup-mark-check", What: "requester takes a mark above what was sent", File: "federation/catchup/pull.go",
		From: "if m > max(rc.lastSeq, rc.asked[section]) {",
		To:   "if false && m > max(rc.lastSeq, rc.asked[section]) {", Pkgs: pCatchup},
	{Name: "catchup-foreign-entry", What: "entry of another publisher accepted in a section", File: "federation/catchup/pull.go",
		From: "case e.Publisher != section:",
		To:   "case false && e.Publisher != section:", Pkgs: pCatchup},
	{Name: "catchup-budget", What: "responder may send more entries than the budget", File: "federation/catchup/pull.go",
		From: "if st.Entries >= rc.budget {",
		To:   "if st.Entries > rc.budget {", Pkgs: pCatchup},

	// node/auth: passwords, sessions, roles.
	{Name: "auth-password", What: "any password matches", File: "node/auth/auth.go",
		From: "return subtle.ConstantTimeCompare(got, want) == 1",
		To:   "return subtle.ConstantTimeCompare(got, want) >= 0", Pkgs: pAuth},
	{Name: "auth-disabled-login", What: "a disabled account can log in", File: "node/auth/auth.go",
		From: "live := ok && !a.Disabled",
		To:   "live := ok", Pkgs: pAuth},
	{Name: "auth-disabled-session", What: "a disabled account's session stays valid", File: "node/auth/auth.go",
		From: "if !ok || a == nil || a.Disabled || se.Expires.Before(s.clk.Now()) {",
		To:   "if !ok || a == nil || se.Expires.Before(s.clk.Now()) {", Pkgs: pAuth},
	{Name: "auth-session-expiry", What: "an expired session stays valid", File: "node/auth/auth.go",
		From: "if !ok || a == nil || a.Disabled || se.Expires.Before(s.clk.Now()) {",
		To:   "if !ok || a == nil || a.Disabled {", Pkgs: pAuth},
	{Name: "auth-drop-sessions", What: "disabling an account keeps its sessions", File: "node/auth/auth.go",
		From: `if next.Disabled || h != "" || next.Role != cur.Role {`,
		To:   `if h != "" || next.Role != cur.Role {`, Pkgs: pAuth},
	{Name: "auth-role-valid", What: "an unknown role accepted for an account", File: "node/auth/auth.go",
		From: "func (r Role) Valid() bool { return slices.Contains(Roles, r) }",
		To:   `func (r Role) Valid() bool { return r != "" || slices.Contains(Roles, r) }`, Pkgs: pAuth},

	// node/audit: the hash chain.
	{Name: "audit-hash-prev", What: "an event's hash does not cover the previous hash", File: "node/audit/audit.go",
		From: "ev.Detail, ev.Prev,",
		To:   "ev.Detail,", Pkgs: pAudit},
	{Name: "audit-verify-link", What: "Verify ignores the link to the previous event", File: "node/audit/audit.go",
		From: "ev.Seq != c.n || ev.Prev != c.prev || hashEvent(&ev) != ev.Hash",
		To:   "ev.Seq != c.n || (false && ev.Prev != c.prev) || hashEvent(&ev) != ev.Hash", Pkgs: pAudit},
	{Name: "audit-verify-hash", What: "Verify ignores an event's own hash", File: "node/audit/audit.go",
		From: "ev.Prev != c.prev || hashEvent(&ev) != ev.Hash ||",
		To:   "ev.Prev != c.prev ||", Pkgs: pAudit},

	// node/care: who sees and changes a beneficiary.
	{Name: "care-assigned", What: "a caregiver sees beneficiaries not assigned to them", File: "node/care/service.go",
		From: `(a.Role == auth.Caregiver && a.CaregiverID != "" && slices.Contains(b.Caregivers, a.CaregiverID))`,
		To:   `(a.Role == auth.Caregiver && a.CaregiverID != "")`, Pkgs: pCare},
	{Name: "care-write-admin", What: "a non-admin edits a beneficiary", File: "node/care/service.go",
		From: "canWrite: func(a auth.Actor, _ *Beneficiary) bool { return a.Role == auth.Admin },",
		To:   `canWrite: func(a auth.Actor, _ *Beneficiary) bool { return a.Role != "" },`, Pkgs: pCare},
	{Name: "care-workshop", What: "a refurbisher moves a terminal of another workshop", File: "node/care/service.go",
		From: "if a.Role == auth.Refurbisher && !slices.Contains(ws, a.Username) {",
		To:   "if false && a.Role == auth.Refurbisher && !slices.Contains(ws, a.Username) {", Pkgs: pCare},

	// node/calls: who may ring whom, and call grants.
	{Name: "calls-assigned", What: "a caregiver rings a beneficiary not assigned to them", File: "node/calls/ws.go",
		From: "func (s *Service) mayCall(caregiver string, b Person) bool {\n",
		To:   "func (s *Service) mayCall(caregiver string, b Person) bool {\n\tif true {\n\t\treturn true\n\t}\n", Pkgs: pCalls},
	{Name: "calls-see-beneficiary", What: "a caregiver sees the call data of an unassigned beneficiary", File: "node/calls/service.go",
		From: "return ok && slices.Contains(b.Caregivers, a.CaregiverID)",
		To:   "return ok || slices.Contains(b.Caregivers, a.CaregiverID)", Pkgs: pCalls},
	{Name: "grant-beneficiary", What: "a grant used for another beneficiary", File: "node/calls/remote.go",
		From: "if err == nil && g.Beneficiary != m.Beneficiary {",
		To:   "if false && g.Beneficiary != m.Beneficiary {", Pkgs: pCalls},
	{Name: "grant-audience", What: "a grant replayed by another node", File: "node/calls/grant.go",
		From: "if c.Issuer != s.cfg.PeerID || c.Audience != caller || c.Subject != caregiver {",
		To:   "if c.Issuer != s.cfg.PeerID || c.Subject != caregiver {", Pkgs: pCalls},
	{Name: "grant-subject", What: "a grant used for another caregiver", File: "node/calls/grant.go",
		From: "if c.Issuer != s.cfg.PeerID || c.Audience != caller || c.Subject != caregiver {",
		To:   "if c.Issuer != s.cfg.PeerID || c.Audience != caller {", Pkgs: pCalls},
	{Name: "grant-revoked", What: "a revoked grant still works", File: "node/calls/grant.go",
		From: "if g.Revoked {",
		To:   "if false && g.Revoked {", Pkgs: pCalls},
	{Name: "grant-expired", What: "an expired grant still works", File: "node/calls/grant.go",
		From: "if !s.now().Before(g.Expires) || !s.now().Before(time.Unix(c.Expires, 0)) {",
		To:   "if false && !s.now().Before(g.Expires) {", Pkgs: pCalls},
	{Name: "grant-import-role", What: "any role imports a grant", File: "node/calls/grant.go",
		From: "func (s *Service) ImportGrant(ctx context.Context, a auth.Actor, token string) (HeldGrant, error) {\n\tif a.Role != auth.Admin {",
		To:   "func (s *Service) ImportGrant(ctx context.Context, a auth.Actor, token string) (HeldGrant, error) {\n\tif false && a.Role != auth.Admin {", Pkgs: pCalls},
	{Name: "grant-issue-role", What: "any role issues a grant", File: "node/calls/grant.go",
		From: "func (s *Service) IssueGrant(ctx context.Context, a auth.Actor, g Grant) (Grant, error) {\n\tif a.Role != auth.Admin {",
		To:   "func (s *Service) IssueGrant(ctx context.Context, a auth.Actor, g Grant) (Grant, error) {\n\tif false && a.Role != auth.Admin {", Pkgs: pCalls},
	{Name: "grant-import-audience", What: "a grant addressed to another node imported", File: "node/calls/grant.go",
		From: "if c.Issuer != kid || c.Audience != s.cfg.PeerID {",
		To:   "if c.Issuer != kid {", Pkgs: pCalls},
	{Name: "grant-held-beneficiary", What: "a held grant used to ring another beneficiary", File: "node/calls/grant.go",
		From: "if h.Issuer == node && h.Beneficiary == ben &&",
		To:   "if h.Issuer == node &&", Pkgs: pCalls},

	// node/escalation: who an alert reaches first.
	{Name: "escalation-social-first", What: "social-services alert routed to other contacts first", File: "node/escalation/links.go",
		From: "\treturn append(first, rest...)\n}",
		To:   "\treturn append(rest, first...)\n}", Pkgs: pEscalate},
	{Name: "escalation-social-only", What: "alert routed to nobody when the chain holds only its targets", File: "node/escalation/links.go",
		From: "\tif len(first) == 0 {\n\t\treturn nil\n\t}",
		To:   "\tif len(rest) == 0 {\n\t\treturn nil\n\t}", Pkgs: pEscalate},
	{Name: "escalation-social-kind", What: "social-services alert targets the wrong contacts", File: "node/escalation/links.go",
		From: `want = func(l Link) bool { return l.Kind == "social_services" }`,
		To:   `want = func(l Link) bool { return l.Kind != "social_services" }`, Pkgs: pEscalate},
	{Name: "escalation-caregiver-kind", What: "caregivers alert targets the wrong contacts", File: "node/escalation/links.go",
		From: `want = func(l Link) bool { return l.Kind == "caregiver" }`,
		To:   `want = func(l Link) bool { return l.Kind != "caregiver" }`, Pkgs: pEscalate},

	// node/store: a backup carries every namespace.
	backupSkips("/calls"),
	backupSkips("/escalation"),
	backupSkips("/notify"),
	backupSkips("/own"),
	backupSkips("/fed"),
	backupSkips("/audit"),
}

// backupSkips is a backup that leaves out every key under prefix: the
// stream badger's own Backup uses, with a key filter.
func backupSkips(prefix string) Mutation {
	return Mutation{Name: "backup-skips-" + prefix[1:], What: "backup skips the " + prefix + " namespace", File: "node/store/store.go",
		From: "_, err := stream.Backup(w, 0)",
		To: "stream.ChooseKey = func(it *badgerdb.Item) bool { return !strings.HasPrefix(string(it.Key()), \"" + prefix + "/\") }\n" +
			"\t_, err := stream.Backup(w, 0)", Pkgs: pBackup}
}
