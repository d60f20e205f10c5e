package localnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Call does one JSON API call to a node and returns the body of a 2xx
// answer; token, when set, goes in as a bearer token.
func Call(ctx context.Context, method, url, token string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return b, fmt.Errorf("%s %s: %s: %s", method, url, res.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// CallJSON is Call with the answer decoded into out (nil: not decoded).
func CallJSON(ctx context.Context, method, url, token string, body, out any) error {
	b, err := Call(ctx, method, url, token, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Login logs user in at the node serving on base and returns the session
// token.
func Login(ctx context.Context, base, user, password string) (string, error) {
	var out struct{ Token string }
	err := CallJSON(ctx, http.MethodPost, base+"/api/v1/login", "", map[string]string{"username": user, "password": password}, &out)
	return out.Token, err
}

func get(ctx context.Context, url, token string) ([]byte, error) {
	return Call(ctx, http.MethodGet, url, token, nil)
}
