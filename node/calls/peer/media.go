package peer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/difronte/difronte/node/calls"
)

// MediaBytes is how many RTP bytes arrived on the session's remote tracks
// so far (0 when the call carries only data).
func (s *Session) MediaBytes() int64 { return s.media.Load() }

// drain reads a remote track until the connection closes, counting bytes:
// unread tracks fill pion's buffers, and the count is what tests check.
func (s *Session) drain(t *webrtc.TrackRemote) {
	s.dmu.Lock()
	select {
	case <-s.stop:
		s.dmu.Unlock()
		return
	default:
	}
	s.drains.Add(1)
	s.dmu.Unlock()
	go func() {
		defer s.drains.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			s.media.Add(int64(n))
		}
	}()
}

// AnswerOptions is what a terminal peer brings to a call it answers.
type AnswerOptions struct {
	// Tracks are sent on the caller's transceivers of the same kind (a
	// browser caller offers audio and video; a kind the offer lacks is not
	// sent). The caller of AnswerMedia feeds them.
	Tracks []webrtc.TrackLocal
	// OnDataChannel is given the caller's data channel, if it opens one.
	OnDataChannel func(*webrtc.DataChannel)
}

// AnswerMedia accepts a ring like the terminal page does after its
// countdown: it answers whatever the caller offers (audio, video, a data
// channel), sends opt.Tracks, and returns once the peer connection is
// connected. Unlike Answer it does not need a data channel, so a browser
// caregiver can call it.
func (p *Peer) AnswerMedia(ctx context.Context, ring calls.Msg, opt AnswerOptions) (*Session, error) {
	connected := make(chan struct{})
	s, err := p.accept(ctx, ring, opt.Tracks, func(s *Session) {
		var once sync.Once
		s.PC.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateConnected {
				once.Do(func() { close(connected) })
			}
		})
		if opt.OnDataChannel != nil {
			s.PC.OnDataChannel(opt.OnDataChannel)
		}
	})
	if err != nil {
		return nil, err
	}
	select {
	case <-connected:
		return s, nil
	case r := <-s.Ended:
		s.Close()
		return nil, &RefusedError{Reason: r}
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// answerOffer applies the offer, puts each track on an offered transceiver
// of its kind, and sends the answer.
func (s *Session) answerOffer(ctx context.Context, sdp string, tracks []webrtc.TrackLocal) error {
	if err := s.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	offered := map[webrtc.RTPCodecType]int{}
	for _, tr := range s.PC.GetTransceivers() {
		offered[tr.Kind()]++
	}
	for _, t := range tracks {
		if offered[t.Kind()] == 0 {
			continue // an answer cannot add a media section
		}
		offered[t.Kind()]--
		// AddTrack takes the offer's transceiver of the same kind and
		// makes it send-receive.
		if _, err := s.PC.AddTrack(t); err != nil {
			return fmt.Errorf("send %s: %w", t.Kind(), err)
		}
	}
	ans, err := s.PC.CreateAnswer(nil)
	if err == nil {
		err = s.PC.SetLocalDescription(ans)
	}
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return s.p.send(ctx, calls.Msg{Type: calls.TypeAnswer, Call: s.ID, SDP: ans.SDP})
}

// opusSilence is one 20 ms Opus frame of silence (TOC 0xf8: CELT-only
// fullband, 20 ms, one frame), the frame browsers send for a muted track.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// Silence is an Opus audio track that sends silence every 20 ms: a real
// media stream (RTP, SRTP, stats on the other side) without an encoder.
type Silence struct {
	Track *webrtc.TrackLocalStaticSample
}

// NewSilence makes the track; Run feeds it.
func NewSilence(streamID string) (*Silence, error) {
	t, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", streamID)
	if err != nil {
		return nil, fmt.Errorf("silence track: %w", err)
	}
	return &Silence{Track: t}, nil
}

// Run writes a frame every 20 ms until ctx ends.
func (s *Silence) Run(ctx context.Context) {
	const frame = 20 * time.Millisecond
	tk := time.NewTicker(frame)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			// A track with no bound connection yet drops the sample.
			_ = s.Track.WriteSample(media.Sample{Data: opusSilence, Duration: frame})
		}
	}
}
