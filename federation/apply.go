package federation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Applications for a qualification travel from a coop node to an authority
// node over this stream protocol, not gossip: an application is addressed
// to one authority and carries documents nobody else should hold.
//
// One stream carries one exchange: the coop writes one request frame, the
// authority answers with one response frame and closes. A frame is a 4-byte
// big-endian length and a JSON object. Status flows back by polling: the
// coop asks for the state of its applications ("status") when its admin
// looks and periodically; the authority never dials coops, so a coop behind
// NAT needs no reachable address and an authority opens no connections to
// parties that did not ask.
const ApplyProtocolID protocol.ID = "/difronte/apply/1"

// Limits of the apply protocol.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 2 << 20
	// MaxApplyFrame fits five maximal attachments in base64 plus text.
	MaxApplyFrame = (MaxAttachments*MaxAttachmentSize)*4/3 + 256<<10
	// maxApplyResponse: answers carry states and credentials, no documents.
	maxApplyResponse = 1 << 20
	applyDeadline    = 60 * time.Second
)

// Apply operations.
const (
	ApplySubmit = "submit" // a new application, or a re-submission of one that needs changes
	ApplyStatus = "status" // the state of every application of the asking coop
)

// Attachment is a document attached to an application.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"` // application/pdf, image/png, image/jpeg
	Data []byte `json:"data"`
}

// ApplicationForm is what a coop submits.
type ApplicationForm struct {
	ID             string       `json:"id"` // chosen by the coop; a re-submission reuses it
	CoopName       string       `json:"coop_name"`
	Categories     []string     `json:"categories"`
	Municipalities []string     `json:"municipalities"`
	Description    string       `json:"description"`
	Attachments    []Attachment `json:"attachments,omitempty"`
}

// ApplyRequest is the one request frame of an exchange.
type ApplyRequest struct {
	Op   string           `json:"op"`
	Form *ApplicationForm `json:"form,omitempty"`
}

// ApplicationState is what the authority tells the coop about one
// application.
type ApplicationState struct {
	ID      string    `json:"id"`
	State   string    `json:"state"`             // submitted, changes, approved, rejected, revoked
	Message string    `json:"message,omitempty"` // the officer's message
	Updated time.Time `json:"updated"`
	// Credential is the qualification token once approved; it is also
	// published on gossip, this only saves the coop a wait.
	Credential string `json:"credential,omitempty"`
}

// ApplyResponse is the one response frame.
type ApplyResponse struct {
	Error        string             `json:"error,omitempty"` // refusal reason
	Applications []ApplicationState `json:"applications,omitempty"`
}

// ApplyHandler is the authority side; node/qualify implements it. from is
// the remote peer, authenticated by the libp2p connection.
type ApplyHandler interface {
	HandleApply(ctx context.Context, from peer.ID, req ApplyRequest) ApplyResponse
}

// ErrApplyRefused wraps a refusal the authority answered with.
var ErrApplyRefused = errors.New("application refused")

// ServeApply answers the apply protocol on h with handler. The returned
// function removes the handler.
func ServeApply(h host.Host, handler ApplyHandler) func() {
	h.SetStreamHandler(ApplyProtocolID, func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(applyDeadline))
		var req ApplyRequest
		var resp ApplyResponse
		if err := readApplyFrame(s, MaxApplyFrame, &req); err != nil {
			resp.Error = err.Error()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), applyDeadline)
			resp = handler.HandleApply(ctx, s.Conn().RemotePeer(), req)
			cancel()
		}
		if err := writeApplyFrame(s, resp, maxApplyResponse); err != nil {
			_ = s.Reset()
		}
	})
	return func() { h.RemoveStreamHandler(ApplyProtocolID) }
}

// SendApply runs one exchange with the authority at p.
func SendApply(ctx context.Context, h host.Host, p peer.ID, req ApplyRequest) (ApplyResponse, error) {
	var resp ApplyResponse
	ctx, cancel := context.WithTimeout(ctx, applyDeadline)
	defer cancel()
	s, err := h.NewStream(ctx, p, ApplyProtocolID)
	if err != nil {
		return resp, fmt.Errorf("open apply stream to %s: %w", p, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	if err := writeApplyFrame(s, req, MaxApplyFrame); err != nil {
		_ = s.Reset()
		return resp, fmt.Errorf("send application to %s: %w", p, err)
	}
	_ = s.CloseWrite()
	if err := readApplyFrame(s, maxApplyResponse, &resp); err != nil {
		_ = s.Reset()
		return resp, fmt.Errorf("read answer of %s: %w", p, err)
	}
	_ = s.Close()
	if resp.Error != "" {
		return resp, fmt.Errorf("%w: %s", ErrApplyRefused, resp.Error)
	}
	return resp, nil
}

func writeApplyFrame(w io.Writer, v any, limit int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > limit {
		return fmt.Errorf("frame of %d bytes, limit %d", len(b), limit)
	}
	bw := bufio.NewWriter(w)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	_, _ = bw.Write(n[:])
	_, _ = bw.Write(b)
	return bw.Flush()
}

// readApplyFrame reads one frame of at most limit bytes and decodes it
// strictly.
func readApplyFrame(r io.Reader, limit int, v any) error {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return fmt.Errorf("read frame length: %w", err)
	}
	size := binary.BigEndian.Uint32(n[:])
	if size == 0 || size > uint32(limit) {
		return fmt.Errorf("frame of %d bytes, limit %d", size, limit)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read frame: %w", err)
	}
	return decodeApplyFrame(b, v)
}

func decodeApplyFrame(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	if dec.More() {
		return errors.New("decode frame: trailing data")
	}
	return nil
}
