// Shared WebRTC helpers of the agenda and the terminal: one peer
// connection per call, trickled candidates over the node's socket.

export function wsURL(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

// newPeer makes a peer connection that sends its candidates with send.
export function newPeer(ice, call, send, onRemote) {
  const pc = new RTCPeerConnection({ iceServers: ice || [] });
  pc.onicecandidate = (e) => {
    if (e.candidate) send({ type: 'candidate', call, candidate: e.candidate.toJSON() });
  };
  pc.ontrack = (e) => onRemote(e.streams[0]);
  // Tests and the quality monitor read the live connection here.
  window.__difronte = { pc };
  return pc;
}

export async function media() {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
}

// watchQuality calls warn(true) when loss or round-trip time show a poor
// link, warn(false) when it recovers.
export function watchQuality(pc, warn) {
  let last = null;
  const timer = setInterval(async () => {
    if (pc.connectionState === 'closed') { clearInterval(timer); return; }
    const stats = await pc.getStats();
    let lost = 0; let got = 0; let rtt = 0;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp') { lost += s.packetsLost || 0; got += s.packetsReceived || 0; }
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime) rtt = s.currentRoundTripTime;
    });
    if (last) {
      const dl = lost - last.lost; const dg = got - last.got;
      const poor = (dg + dl > 0 && dl / (dg + dl) > 0.05) || rtt > 0.4 || pc.connectionState === 'disconnected';
      warn(poor);
    }
    last = { lost, got };
  }, 2000);
  return () => clearInterval(timer);
}

export function callID() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
