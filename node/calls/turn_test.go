package calls

import (
	"net"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

// turnRelay allocates a relay on the embedded server with the node's
// short-lived credentials and tries to send through it to peer.
func turnRelay(t *testing.T, srv string, user, pass string, peer net.Addr) error {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: srv, STUNServerAddr: srv, Username: user, Password: pass, Realm: "difronte", Conn: conn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		return err
	}
	defer relay.Close()
	_, err = relay.WriteTo([]byte("hello"), peer)
	return err
}

func TestEmbeddedTURN(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	echo, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	got := make(chan struct{}, 1)
	go func() {
		b := make([]byte, 100)
		for {
			n, _, err := echo.ReadFrom(b)
			if err != nil {
				return
			}
			if string(b[:n]) == "hello" {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		}
	}()
	for _, tt := range []struct {
		name  string
		allow []string
		want  bool
	}{
		{"loopback refused by default", nil, false},
		{"loopback allowed when configured", []string{"127.0.0.0/8"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := StartTURN(TURNConfig{Listen: "127.0.0.1:0", Secret: "s3cret", Allow: tt.allow})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			user, pass := TURNCredentials("s3cret", "giulia", time.Now(), time.Minute)
			err = turnRelay(t, srv.Addr.String(), user, pass, echo.LocalAddr())
			if tt.want {
				if err != nil {
					t.Fatalf("relay refused: %v", err)
				}
				select {
				case <-got:
				case <-time.After(5 * time.Second):
					t.Fatal("relayed packet never arrived")
				}
				return
			}
			if err == nil {
				select {
				case <-got:
					t.Fatal("relayed to loopback")
				case <-time.After(300 * time.Millisecond):
				}
			}
		})
	}
	// Expired or forged credentials get no allocation.
	srv, err := StartTURN(TURNConfig{Listen: "127.0.0.1:0", Secret: "s3cret", Allow: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	user, pass := TURNCredentials("s3cret", "giulia", time.Now().Add(-2*time.Hour), time.Hour)
	if err := turnRelay(t, srv.Addr.String(), user, pass, echo.LocalAddr()); err == nil {
		t.Fatal("expired credential allocated a relay")
	}
	user, _ = TURNCredentials("s3cret", "giulia", time.Now(), time.Hour)
	if err := turnRelay(t, srv.Addr.String(), user, "forged", echo.LocalAddr()); err == nil {
		t.Fatal("forged password allocated a relay")
	}
	if _, err := StartTURN(TURNConfig{Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("TURN without a secret started")
	}
}
