package calls

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const testSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"

func TestDecodeMsg(t *testing.T) {
	cand := `{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}`
	tests := []struct {
		in, reason string
	}{
		{`{"type":"offer","call":"abcdefgh","sdp":` + jsonStr(testSDP) + `}`, ""},
		{`{"type":"candidate","call":"abcdefgh","candidate":` + cand + `}`, ""},
		{`{"type":"candidate","call":"abcdefgh","candidate":{"candidate":""}}`, ""},
		{`{"type":"hello","credential":"x"}`, ""},
		{`{"type":"offer","call":"abcdefgh","sdp":"v=0 garbage"}`, "bad_sdp"},
		{`{"type":"offer","call":"abcdefgh","sdp":"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}`, "bad_sdp"},
		{`{"type":"candidate","call":"abcdefgh","candidate":{"candidate":"candidate:1 1 udp"}}`, "bad_candidate"},
		{`{"type":"candidate","call":"abcdefgh","candidate":{"candidate":"x","evil":1}}`, "bad_candidate"},
		{`{"type":"candidate","call":"abcdefgh","candidate":"str"}`, "bad_candidate"},
		{`{"type":"boom"}`, "unknown_type"},
		{`{"type":"offer","call":"../../x","sdp":""}`, "bad_call_id"},
		{`{"type":"hangup"}`, "bad_call_id"},
		{`{"type":"hello","sdp":"v=0"}`, "unexpected_sdp"},
		{`{"type":"hello","extra":1}`, "malformed"},
		{`{"type":"hello"}{"type":"hello"}`, "malformed"},
		{`not json`, "malformed"},
		{`{"type":"call","call":"abcdefgh","from":"` + strings.Repeat("x", 200) + `"}`, "field_too_long"},
		{strings.Repeat(" ", MaxMsg+1), "too_large"},
	}
	for _, tt := range tests {
		_, err := DecodeMsg([]byte(tt.in))
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%.60s: %v", tt.in, err)
		case tt.reason != "" && (err == nil || !errors.Is(err, ErrBadMsg) || reason(err) != tt.reason):
			t.Errorf("%.60s: got %v, want %s", tt.in, err, tt.reason)
		}
	}
}

func jsonStr(s string) string { b, _ := json.Marshal(s); return string(b) }

func FuzzDecodeMsg(f *testing.F) {
	f.Add([]byte(`{"type":"offer","call":"abcdefgh","sdp":` + jsonStr(testSDP) + `}`))
	f.Add([]byte(`{"type":"candidate","call":"abcdefgh","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}}`))
	f.Add([]byte(`{"type":"call","call":"abcdefgh","beneficiary":"b","node":"n","grant":"a.b.c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMsg(b)
		if err != nil {
			return
		}
		// What passes must survive a round trip unchanged in meaning.
		if _, err := DecodeMsg(encodeMsg(m)); err != nil {
			t.Fatalf("accepted %q but not its re-encoding: %v", b, err)
		}
	})
}
