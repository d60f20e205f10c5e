package citizens

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Audit actions of the "act for citizen" mode.
const (
	ActStart audit.Action = "act_for_start"
	ActStop  audit.Action = "act_for_stop"
	Erase    audit.Action = "delete"
)

// ConsentRequest is how the citizen gave their consent.
type ConsentRequest struct {
	Given   bool   `json:"given"`
	Method  string `json:"method"`
	Witness string `json:"witness,omitempty"`
	Note    string `json:"note,omitempty"`
}

// RegisterRequest is the body of POST /api/v1/citizens: an operator
// registers a citizen who cannot use the platform alone.
type RegisterRequest struct {
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Email       string         `json:"email,omitempty"`
	Lang        string         `json:"lang,omitempty"`
	Password    string         `json:"password,omitempty"` // empty: a random one nobody is shown
	Consent     ConsentRequest `json:"consent"`
}

func checkConsent(c ConsentRequest) error {
	f := map[string]string{}
	if !c.Given {
		f["consent.given"] = "required"
	}
	if !slices.Contains(ConsentMethods, c.Method) {
		f["consent.method"] = "bad_choice"
	}
	if c.Method == "verbal_witness" && strings.TrimSpace(c.Witness) == "" {
		f["consent.witness"] = "required"
	}
	if code := schema.TextFault(c.Witness, 100, false); code != "" {
		f["consent.witness"] = code
	}
	if code := schema.TextFault(c.Note, 500, true); code != "" {
		f["consent.note"] = code
	}
	if len(f) > 0 {
		return problem.Invalid(f)
	}
	return nil
}

// Register creates the account of a citizen assisted by the operator a,
// with the consent they gave. The account is active at once; the citizen
// may never log in themselves: operators act for them.
func (s *Service) Register(ctx context.Context, a auth.Actor, req RegisterRequest) (Citizen, error) {
	if a.Role != auth.Operator {
		return Citizen{}, problem.ErrForbidden
	}
	if err := checkConsent(req.Consent); err != nil {
		return Citizen{}, err
	}
	c := Citizen{Username: req.Username, State: Active, Origin: FromOperator}
	if req.Email != "" {
		email, ok := checkEmail(req.Email)
		if !ok {
			return Citizen{}, problem.Invalid(map[string]string{"email": "bad_email"})
		}
		c.Email = email
	}
	if strings.TrimSpace(req.DisplayName) == "" {
		return Citizen{}, problem.Invalid(map[string]string{"display_name": "required"})
	}
	c.Consent = &Consent{Operator: a.Username, At: s.cfg.Clock.Now().UTC(), Method: req.Consent.Method,
		Witness: strings.TrimSpace(req.Consent.Witness), Note: strings.TrimSpace(req.Consent.Note)}
	pw := req.Password
	if pw == "" {
		pw = auth.NewPassword() + "-" + auth.NewPassword()
	}
	acc := auth.Account{Username: req.Username, Role: auth.Citizen, DisplayName: strings.TrimSpace(req.DisplayName), Lang: req.Lang}
	if err := s.create(ctx, &c, acc, pw); err != nil {
		return Citizen{}, err
	}
	ev := a.Event(audit.Create, "citizen", c.Username)
	ev.For, ev.Detail = c.Username, "consent:"+c.Consent.Method
	return c, s.cfg.Audit.Record(ctx, ev)
}

// ErrNoConsent is an operator trying to act for a citizen who did not
// consent to be assisted.
var ErrNoConsent = problem.New(403, "no_consent", "this citizen has not consented to be assisted")

// ActFor puts the session of token in the "act for citizen" mode (or ends
// it, citizen ""). An operator may act for a citizen registered with
// consent at this node's proximity point.
func (s *Service) ActFor(ctx context.Context, a auth.Actor, token, citizen string) error {
	if a.Role != auth.Operator {
		return problem.ErrForbidden
	}
	if citizen == "" {
		if a.For == "" {
			return nil
		}
		if err := s.cfg.Auth.ActFor(ctx, token, ""); err != nil {
			return err
		}
		return s.cfg.Audit.Record(ctx, a.Event(ActStop, "citizen", a.For))
	}
	c, ok := s.Get(citizen)
	if !ok {
		return problem.ErrNotFound
	}
	if c.Consent == nil || c.State != Active {
		return ErrNoConsent
	}
	if err := s.cfg.Auth.ActFor(ctx, token, citizen); err != nil {
		if errors.Is(err, auth.ErrNotCitizen) {
			return ErrNoConsent
		}
		return err
	}
	a.For = citizen
	return s.cfg.Audit.Record(ctx, a.Event(ActStart, "citizen", citizen))
}
