package calls

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"time"
)

// ICEServer is an RTCIceServer as browsers and pion take it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEConfig says which STUN and TURN servers the node hands to browsers.
type ICEConfig struct {
	STUN []string // "stun:host:port"
	TURN []string // "turn:host:port?transport=udp"
	// TURNSecret keys short-lived TURN credentials (the TURN REST scheme
	// that coturn and the embedded server share): username "<expiry>:<user>",
	// password base64(HMAC-SHA1(secret, username)).
	TURNSecret string
	TURNTTL    time.Duration // default 1 h
}

// TURNCredentials returns a credential pair valid until now+ttl.
func TURNCredentials(secret, user string, now time.Time, ttl time.Duration) (string, string) {
	name := fmt.Sprintf("%d:%s", now.Add(ttl).Unix(), user)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(name))
	return name, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// iceServers are the servers handed to one socket; TURN credentials are
// minted per socket so a leaked one expires soon.
func (s *Service) iceServers(user string) []ICEServer {
	c := s.cfg.ICE
	var out []ICEServer
	if len(c.STUN) > 0 {
		out = append(out, ICEServer{URLs: c.STUN})
	}
	if len(c.TURN) > 0 && c.TURNSecret != "" {
		ttl := c.TURNTTL
		if ttl == 0 {
			ttl = time.Hour
		}
		u, p := TURNCredentials(c.TURNSecret, user, s.now(), ttl)
		out = append(out, ICEServer{URLs: c.TURN, Username: u, Credential: p})
	}
	return out
}
