package node

import (
	"strings"
	"testing"
)

// The coop's time zone is checked when the node is made, before any I/O.
func TestTimeZoneConfig(t *testing.T) {
	n, err := New(Config{})
	if err != nil || n.loc.String() != "Europe/Rome" {
		t.Fatalf("default zone: %v %v", n, err)
	}
	if n, err = New(Config{TimeZone: "America/New_York"}); err != nil || n.loc.String() != "America/New_York" {
		t.Fatalf("configured zone: %v", err)
	}
	if _, err := New(Config{TimeZone: "Mars/Olympus"}); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Fatalf("unknown zone: %v", err)
	}
}
