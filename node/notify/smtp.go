package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/wneessen/go-mail"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"     // plain text: only for a relay on the same machine
	TLSStartTLS = "starttls" // STARTTLS required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// SMTPConfig is the coop's mail server, read from a file (0600) so the
// password is never a flag or an environment variable.
type SMTPConfig struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	TLS      string `json:"tls"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	From     string `json:"from"`
	// CAFile is a PEM file of the CA that signed the server's certificate,
	// for a coop's private mail server; empty: the system roots.
	CAFile string `json:"ca_file,omitempty"`

	roots *x509.CertPool
}

// LoadSMTPConfig reads and checks an SMTP configuration file.
func LoadSMTPConfig(path string) (*SMTPConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SMTP config: %w", err)
	}
	var c SMTPConfig
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode SMTP config %s: %w", path, err)
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("SMTP config %s: %w", path, err)
	}
	return &c, nil
}

// Check validates the configuration and loads the CA file.
func (c *SMTPConfig) Check() error {
	if c.Host == "" || c.From == "" {
		return errors.New("host and from are required")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return errors.New("port must be 1-65535")
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	case "":
		c.TLS = TLSStartTLS
	default:
		return fmt.Errorf("tls must be none, starttls or tls, not %q", c.TLS)
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("username and password go together")
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("read CA file: %w", err)
		}
		c.roots = x509.NewCertPool()
		if !c.roots.AppendCertsFromPEM(pem) {
			return errors.New("CA file holds no PEM certificate")
		}
	}
	return nil
}

// SetRoots trusts pool for the server certificate (tests, or a caller that
// already holds the pool).
func (c *SMTPConfig) SetRoots(pool *x509.CertPool) { c.roots = pool }

func (c *SMTPConfig) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(c.Port)}
	tc := &tls.Config{ServerName: c.Host, RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	switch c.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tc))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(tc))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	return mail.NewClient(c.Host, opts...)
}

func (c *SMTPConfig) send(ctx context.Context, m *Message) error {
	msg := mail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: %w", ErrBadTarget)
	}
	msg.Subject(m.Subject)
	// A stable Message-ID lets mail clients drop a copy sent twice when a
	// crash came between the server's acceptance and our record of it.
	h := sha256.Sum256([]byte(m.ID))
	domain := c.From[strings.LastIndex(c.From, "@")+1:]
	msg.SetMessageIDWithValue(hex.EncodeToString(h[:16]) + "@" + domain)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	cl, err := c.client()
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send to %s:%d: %w", c.Host, c.Port, err)
	}
	return nil
}
