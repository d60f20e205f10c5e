package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Headers of a webhook request.
const (
	HeaderSignature = "X-Difronte-Signature" // "sha256=" + hex HMAC of timestamp + "." + body
	HeaderTimestamp = "X-Difronte-Timestamp" // unix seconds
	HeaderDelivery  = "X-Difronte-Delivery"  // message ID: receivers drop repeats
)

// WebhookBody is what a webhook receives.
type WebhookBody struct {
	ID      string            `json:"id"`
	Ref     string            `json:"ref,omitempty"`
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	AckURL  string            `json:"ack_url,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
}

// Sign returns the signature header value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("bad webhook signature")

// Verify checks a webhook request's signature and that its timestamp is
// within skew of now, for receivers written in Go (and the tests).
func Verify(secret []byte, sig, ts string, body []byte, now time.Time, skew time.Duration) error {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > skew || d < -skew {
		return fmt.Errorf("%w: timestamp out of range", ErrBadSignature)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, t, body))) {
		return ErrBadSignature
	}
	return nil
}

func postWebhook(ctx context.Context, c *http.Client, secret []byte, now time.Time, m *Message) error {
	u, err := url.Parse(m.To)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("webhook URL: %w", ErrBadTarget)
	}
	body, err := json.Marshal(WebhookBody{ID: m.ID, Ref: m.Ref, To: m.To, Subject: m.Subject, Text: m.Body, AckURL: m.AckURL, Data: m.Data})
	if err != nil {
		return fmt.Errorf("encode webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderDelivery, m.ID)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s answered %d", u.Host, resp.StatusCode)
	}
	return nil
}
