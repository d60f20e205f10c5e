package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind names the type of record an entry carries.
type Kind string

// The kinds of federated record. Later kinds (qualifications, status lists,
// revocations) are added here together with their body validator.
const (
	KindCoop     Kind = "coop"
	KindOffering Kind = "offering"
	// KindQualification carries a qualification credential (a VC-JWT, the
	// body a JSON string), keyed by the credential id.
	KindQualification Kind = "qualification"
	// KindStatusList carries an authority's revocation status list
	// credential, keyed by the list id.
	KindStatusList Kind = "statuslist"
	// KindWorker (worker.go) is a family assistant's public profile.
	// KindRefurbStats (refurbstats.go) is a coop's refurbishment figures.
	// KindCheckpoint (checkpoint.go) is a publisher's signed statement
	// of its own log, keyed CheckpointKey.
)

// ErrUnknownKind is returned for an entry whose kind this version does not know.
var ErrUnknownKind = errors.New("unknown record kind")

// wellFormed reports whether k could name a kind of some version: 1 to 64
// bytes of lower-case ASCII letters, digits, '-' and '.'.
func (k Kind) wellFormed() bool {
	if len(k) == 0 || len(k) > maxKindBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Known reports whether k is a kind this version can validate.
func (k Kind) Known() bool {
	switch k {
	case KindCoop, KindOffering, KindQualification, KindStatusList, KindCheckpoint, KindWorker, KindRefurbStats:
		return true
	}
	return false
}

// ValidateBody decodes body strictly as the record type of kind k and
// validates it. A tombstone has no body and is not passed here.
func ValidateBody(k Kind, key string, body []byte) error {
	switch k {
	case KindCoop:
		var c CoopProfile
		if err := decodeStrict(body, &c); err != nil {
			return err
		}
		return c.Validate()
	case KindOffering:
		var o Offering
		if err := decodeStrict(body, &o); err != nil {
			return err
		}
		if o.ID != key {
			return fmt.Errorf("offering id %q does not match entry key %q", o.ID, key)
		}
		return o.Validate()
	case KindQualification, KindStatusList:
		// Form and shape only: whether the signing key is trusted is each
		// node's own decision (node/qualify), never the gossip layer's.
		_, err := CredentialBody(k, key, body)
		return err
	case KindWorker:
		return workerBody(key, body)
	case KindRefurbStats:
		return refurbStatsBody(key, body)
	case KindCheckpoint:
		if key != CheckpointKey {
			return fmt.Errorf("checkpoint key %q; want %q", key, CheckpointKey)
		}
		_, _, err := DecodeCheckpoint(body)
		return err
	}
	return fmt.Errorf("%w: %q", ErrUnknownKind, k)
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	if err := decodeOne(b, v); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	return nil
}

// decodeOne decodes exactly one JSON value, refusing unknown fields and
// trailing data and whatever CheckJSON refuses (bad UTF-8, duplicate
// members, numbers beyond the bounds); records and credential payloads are
// read this way so that two nodes never disagree on what a record says.
func decodeOne(b []byte, v any) error {
	if err := CheckJSON(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
