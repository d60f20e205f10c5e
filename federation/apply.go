package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/stream"
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

// applyExchange: the answer carries states and credentials, no documents,
// hence its smaller limit.
var applyExchange = stream.Exchange{Protocol: ApplyProtocolID, Name: "apply",
	MaxRequest: MaxApplyFrame, MaxResponse: maxApplyResponse, Timeout: applyDeadline}

// ServeApply answers the apply protocol on h with handler. A request that
// cannot be read or decoded is answered with the reason as a refusal. The
// returned function removes the handler.
func ServeApply(h host.Host, handler ApplyHandler) func() {
	refuse := func(err error) ApplyResponse { return ApplyResponse{Error: err.Error()} }
	return applyExchange.Serve(h, func(ctx context.Context, from peer.ID, b []byte) ([]byte, error) {
		var req ApplyRequest
		var resp ApplyResponse
		if err := stream.UnmarshalJSON(b, MaxApplyFrame, &req); err != nil {
			resp = refuse(err)
		} else {
			resp = handler.HandleApply(ctx, from, req)
		}
		return stream.MarshalJSON(resp, maxApplyResponse)
	}, func(err error) []byte {
		b, _ := stream.MarshalJSON(refuse(err), maxApplyResponse)
		return b
	})
}

// SendApply runs one exchange with the authority at p.
func SendApply(ctx context.Context, h host.Host, p peer.ID, req ApplyRequest) (ApplyResponse, error) {
	var resp ApplyResponse
	b, err := stream.MarshalJSON(req, MaxApplyFrame)
	if err != nil {
		return resp, fmt.Errorf("send application to %s: %w", p, err)
	}
	b, err = applyExchange.Call(ctx, h, p, b)
	if err != nil {
		return resp, err
	}
	if err := stream.UnmarshalJSON(b, maxApplyResponse, &resp); err != nil {
		return resp, fmt.Errorf("read answer of %s: %w", p, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("%w: %s", ErrApplyRefused, resp.Error)
	}
	return resp, nil
}
