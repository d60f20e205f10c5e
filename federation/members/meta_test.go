package members_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/difronte/difronte/federation/members"
)

func TestMetaRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		meta members.Meta
	}{
		{"empty", members.Meta{}},
		{"typical", members.Meta{
			CoopName: "Cooperativa Sociale Il Girasole",
			Addrs:    []string{"/ip4/192.168.1.20/tcp/4001", "/ip4/192.168.1.20/udp/4001/quic-v1", "/ip6/::1/tcp/4001"},
			Roles:    []string{"care", "relay"},
			Records:  1234,
		}},
		{"unicode name", members.Meta{CoopName: "Società Cooperativa Sociale «Àncora»"}},
		{"dns address", members.Meta{Addrs: []string{"/dns4/coop.example/tcp/443/wss"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, dropped, err := members.EncodeMeta(tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if dropped != 0 || len(enc) > members.MetaMaxSize {
				t.Fatalf("dropped %d, %d bytes", dropped, len(enc))
			}
			got, err := members.DecodeMeta(enc)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.meta) {
				t.Fatalf("round trip: got %+v, want %+v", got, tt.meta)
			}
		})
	}
}

// TestMetaSizeLimit fills the metadata with addresses: the encoding must
// stay within memberlist's 512 bytes, keep the coop's identity and as
// many addresses as fit, in order.
func TestMetaSizeLimit(t *testing.T) {
	var addrs []string
	for i := range 200 {
		addrs = append(addrs, fmt.Sprintf("/ip4/10.0.%d.%d/udp/40001/quic-v1", i/250, i%250))
	}
	tests := []struct {
		name string
		meta members.Meta
	}{
		{"addresses only", members.Meta{Addrs: addrs}},
		{"largest fixed part", members.Meta{
			CoopName: strings.Repeat("é", members.MaxCoopNameLen/2),
			Roles:    repeat(strings.Repeat("r", members.MaxRoleLen), members.MaxRoles),
			Records:  1 << 40,
			Addrs:    addrs,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, dropped, err := members.EncodeMeta(tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if len(enc) > members.MetaMaxSize {
				t.Fatalf("encoded %d bytes, limit %d", len(enc), members.MetaMaxSize)
			}
			got, err := members.DecodeMeta(enc)
			if err != nil {
				t.Fatal(err)
			}
			kept := len(got.Addrs)
			if dropped == 0 || kept+dropped != len(addrs) || kept == 0 {
				t.Fatalf("kept %d, dropped %d of %d", kept, dropped, len(addrs))
			}
			for i, a := range got.Addrs {
				if a != addrs[i] {
					t.Fatalf("address %d = %s, want %s", i, a, addrs[i])
				}
			}
			if got.CoopName != tt.meta.CoopName || len(got.Roles) != len(tt.meta.Roles) || got.Records != tt.meta.Records {
				t.Fatalf("fixed fields changed: %+v", got)
			}
			// One more address would not have fitted.
			one := tt.meta
			one.Addrs = addrs[:kept+1]
			if _, d, _ := members.EncodeMeta(one); d != 1 {
				t.Fatalf("with %d addresses dropped %d, want 1: truncation is not tight", kept+1, d)
			}
			t.Logf("kept %d addresses in %d bytes", kept, len(enc))
		})
	}

	// Through Members, too: the drop is counted and Start does not
	// make memberlist panic.
	m, err := members.New(members.Config{Name: "n", SecretKeys: [][]byte{key1}, Meta: members.Meta{Addrs: addrs}})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.MetaDropped == 0 {
		t.Fatalf("Stats = %+v, want dropped addresses counted", s)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestMetaEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		meta members.Meta
	}{
		{"long name", members.Meta{CoopName: strings.Repeat("x", members.MaxCoopNameLen+1)}},
		{"invalid UTF-8 name", members.Meta{CoopName: "\xff"}},
		{"negative records", members.Meta{Records: -1}},
		{"too many roles", members.Meta{Roles: repeat("r", members.MaxRoles+1)}},
		{"empty role", members.Meta{Roles: []string{""}}},
		{"long role", members.Meta{Roles: []string{strings.Repeat("r", members.MaxRoleLen+1)}}},
		{"bad address", members.Meta{Addrs: []string{"/ip4/999.0.0.1/tcp/1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := members.EncodeMeta(tt.meta); !errors.Is(err, members.ErrMeta) {
				t.Fatalf("err = %v, want ErrMeta", err)
			}
		})
	}
}

func TestMetaDecodeErrors(t *testing.T) {
	valid, _, err := members.EncodeMeta(members.Meta{CoopName: "c", Roles: []string{"r"}, Addrs: []string{"/ip4/1.2.3.4/tcp/1"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"unknown version", append([]byte{2}, valid[1:]...)},
		{"truncated", valid[:len(valid)-1]},
		{"name longer than the rest", []byte{1, 50, 'a'}},
		{"overlong varint", []byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
		{"too many roles", []byte{1, 0, 0, members.MaxRoles + 1}},
		{"empty role", []byte{1, 0, 0, 1, 0}},
		{"garbage address", []byte{1, 0, 0, 0, 1, 3, 0xff, 0xff, 0xff}},
		{"too long", make([]byte, members.MetaMaxSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := members.DecodeMeta(tt.b); !errors.Is(err, members.ErrMeta) {
				t.Fatalf("DecodeMeta = %+v, %v; want ErrMeta", m, err)
			}
		})
	}
	// Later versions may append fields: trailing bytes are ignored.
	if _, err := members.DecodeMeta(append(valid, 7, 7)); err != nil {
		t.Fatalf("trailing bytes: %v", err)
	}
}

// FuzzDecodeMeta: metadata arrives from other nodes. Whatever decodes
// must encode back to something that decodes to the same value.
func FuzzDecodeMeta(f *testing.F) {
	for _, m := range []members.Meta{
		{},
		{CoopName: "Coop", Roles: []string{"care"}, Records: 3, Addrs: []string{"/ip4/1.2.3.4/tcp/1", "/ip6/::1/udp/2/quic-v1"}},
		{Addrs: []string{"/dns4/a.example/tcp/443/wss"}},
	} {
		enc, _, err := members.EncodeMeta(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		f.Add(enc[:len(enc)/2])
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := members.DecodeMeta(b)
		if err != nil {
			return
		}
		enc, dropped, err := members.EncodeMeta(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		if dropped != 0 {
			t.Fatalf("decoded %+v drops %d addresses when re-encoded", m, dropped)
		}
		again, err := members.DecodeMeta(enc)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(m) {
			t.Fatalf("re-encoding changed %+v into %+v (%v)", m, again, err)
		}
	})
}
