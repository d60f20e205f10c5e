package calls

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Pairing limits: a 10-digit code has 10^10 values; at most pairFailLimit
// wrong tries a minute node-wide, a half-hour code survives guessing with
// odds under one in ten million.
const (
	pairCodeDigits = 10
	pairFailLimit  = 20
)

// Pairing is what the admin gets to pair a terminal: the code to type or
// the QR code to scan, both one-time.
type Pairing struct {
	Terminal string    `json:"terminal"`
	Code     string    `json:"code"`
	URL      string    `json:"url"` // path with the code, for the QR
	QR       string    `json:"qr"`  // data: URL of a PNG
	Expires  time.Time `json:"expires"`
}

// Errors of pairing and terminal authentication; the text is the reason
// shown to the terminal and audited.
var (
	ErrBadCode        = problem.New(403, "pairing_invalid", "the pairing code is wrong or expired")
	ErrPairingLimited = problem.New(429, "pairing_rate_limited", "too many wrong pairing codes, wait a minute")
	ErrDeviceRevoked  = problem.New(401, "device_revoked", "this terminal's pairing was revoked")
	ErrDeviceUnknown  = problem.New(401, "device_unknown", "this terminal is not paired")
)

func pairCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
	return fmt.Sprintf("%0*d", pairCodeDigits, n)
}

// StartPairing makes a one-time pairing code for a terminal assigned to a
// beneficiary. Admins only.
func (s *Service) StartPairing(ctx context.Context, a auth.Actor, terminal, base string) (Pairing, error) {
	if a.Role != auth.Admin {
		return Pairing{}, s.deny(ctx, a, "pairing", terminal, "start")
	}
	if _, ok := s.cfg.Dir.TerminalBeneficiary(terminal); !ok {
		return Pairing{}, problem.Invalid(map[string]string{"terminal": "not_assigned"})
	}
	code := pairCode()
	p := pairing{Hash: hashToken(code), Terminal: terminal, Expires: s.now().Add(s.cfg.PairingTTL)}
	if err := s.pairings.Put(ctx, p); err != nil {
		return Pairing{}, fmt.Errorf("store pairing: %w", err)
	}
	u := base + "/terminal?code=" + url.QueryEscape(code)
	png, err := qrcode.Encode(u, qrcode.Medium, 256)
	if err != nil {
		return Pairing{}, fmt.Errorf("qr code: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "pairing", terminal, "")); err != nil {
		return Pairing{}, err
	}
	return Pairing{Terminal: terminal, Code: code, URL: u, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), Expires: p.Expires}, nil
}

// Pair redeems a pairing code once and returns the device credential the
// terminal's browser keeps. remote is the client address, for the audit.
func (s *Service) Pair(ctx context.Context, code, remote string) (Device, string, error) {
	s.pairMu.Lock()
	defer s.pairMu.Unlock()
	now := s.now()
	recent := s.pairFails[:0]
	for _, t := range s.pairFails {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	s.pairFails = recent
	if len(recent) >= pairFailLimit {
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "terminal", Action: audit.Denied, Kind: "pairing", Remote: remote, Detail: "rate_limited"})
		return Device{}, "", ErrPairingLimited
	}
	p, ok := s.pairings.Get(hashToken(code))
	if !ok || p.Terminal == "" || !now.Before(p.Expires) {
		s.pairFails = append(s.pairFails, now)
		_ = s.cfg.Audit.Record(ctx, audit.Event{Actor: "terminal", Action: audit.Denied, Kind: "pairing", Remote: remote, Detail: "bad_code"})
		return Device{}, "", ErrBadCode
	}
	// One time: the code is spent before the credential exists.
	terminal := p.Terminal
	p.Terminal = ""
	if err := s.pairings.Put(ctx, p); err != nil {
		return Device{}, "", fmt.Errorf("spend pairing code: %w", err)
	}
	cred, hash := newToken(32)
	d := Device{ID: newID(), Terminal: terminal, Hash: hash, CreatedAt: now}
	if err := s.devices.Put(ctx, d); err != nil {
		return Device{}, "", fmt.Errorf("store device: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, audit.Event{Actor: "terminal:" + d.ID, Action: audit.Create, Kind: "device", Object: terminal, Remote: remote}); err != nil {
		return Device{}, "", err
	}
	s.terminalChanged(terminal)
	return d, cred, nil
}

// Device finds the paired device of a credential; a revoked one is refused.
func (s *Service) Device(cred string) (Device, error) {
	if cred == "" || len(cred) > 100 {
		return Device{}, ErrDeviceUnknown
	}
	h := hashToken(cred)
	ds := s.devices.Filter(func(d *Device) bool { return d.Hash == h })
	if len(ds) == 0 {
		return Device{}, ErrDeviceUnknown
	}
	if ds[0].Revoked {
		return Device{}, ErrDeviceRevoked
	}
	return ds[0], nil
}

// Devices lists the devices paired with a terminal ("" = all). Admins only.
func (s *Service) Devices(ctx context.Context, a auth.Actor, terminal string) ([]Device, error) {
	if a.Role != auth.Admin {
		return nil, s.deny(ctx, a, "device", terminal, "list")
	}
	out := s.devices.Filter(func(d *Device) bool { return terminal == "" || d.Terminal == terminal })
	for i := range out {
		out[i].Hash = ""
	}
	if out == nil {
		out = []Device{}
	}
	return out, nil
}

// RevokeDevice unpairs a device: its credential is refused from now on and
// its open socket is closed at once. Admins only.
func (s *Service) RevokeDevice(ctx context.Context, a auth.Actor, id string) error {
	if a.Role != auth.Admin {
		return s.deny(ctx, a, "device", id, "revoke")
	}
	d, ok := s.devices.Get(id)
	if !ok {
		return problem.ErrNotFound
	}
	d.Revoked, d.RevokedAt = true, s.now()
	if err := s.devices.Put(ctx, d); err != nil {
		return fmt.Errorf("store device: %w", err)
	}
	s.hub.dropDevice(id)
	s.terminalChanged(d.Terminal)
	return s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "device", id, "revoked"))
}

// terminalChanged reports a pairing change of a terminal's beneficiary.
func (s *Service) terminalChanged(terminal string) {
	if ben, ok := s.cfg.Dir.TerminalBeneficiary(terminal); ok {
		s.emit(Event{Type: EventTerminalChanged, Beneficiary: ben})
	}
}

// MayShowCaller says whether the device of credential is paired with the
// terminal of a person caregiver calls (assigned to her, or named with her
// in a schedule): that terminal may show her photo when she rings. It
// returns the device's id for the audit log.
func (s *Service) MayShowCaller(credential, caregiver string) (string, bool) {
	d, err := s.Device(credential)
	if err != nil {
		return "", false
	}
	ben, ok := s.cfg.Dir.TerminalBeneficiary(d.Terminal)
	if !ok {
		return "", false
	}
	b, ok := s.cfg.Dir.Beneficiary(ben)
	if !ok || !s.mayCall(caregiver, b) {
		return "", false
	}
	return d.ID, true
}
