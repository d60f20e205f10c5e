// The caregiver's agenda: place calls, hear requests from terminals.
import { wsURL, newPeer, media, watchQuality, callID } from './calls-rtc.js';

const root = document.getElementById('agenda');
if (root) start();

function start() {
  const msg = (k) => root.dataset['msg' + k.charAt(0).toUpperCase() + k.slice(1)] || '';
  const $ = (id) => document.getElementById(id);
  const status = (t) => { $('call-status').textContent = t; };
  let ws = null; let ice = []; let call = null; let backoff = 1000;

  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

  function connect() {
    ws = new WebSocket(wsURL('/ws/calls'));
    ws.onopen = () => { backoff = 1000; };
    ws.onmessage = (e) => handle(JSON.parse(e.data));
    ws.onclose = () => {
      if (call) end(msg('ended'));
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  async function handle(m) {
    switch (m.type) {
      case 'hello': ice = m.ice || []; break;
      case 'ringing': if (call && m.call === call.id) status(msg('ringing')); break;
      case 'accepted': if (call && m.call === call.id) { call.answered = true; await offer(); } break;
      case 'answer':
        if (call && m.call === call.id) await call.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        break;
      case 'candidate':
        if (call && m.call === call.id && call.pc && m.candidate && m.candidate.candidate) {
          try { await call.pc.addIceCandidate(m.candidate); } catch { /* a late candidate of an old path */ }
        }
        break;
      case 'refused':
        if (call && m.call === call.id) end(`${msg('refused')} ${m.reason === 'terminal_offline' ? msg('offline') : m.reason}`);
        break;
      case 'hangup': if (call && m.call === call.id) end(msg('ended')); break;
      case 'request': {
        // The request is stored before the socket hears it: the page's
        // own list (names, gendered phrasing) is fetched again.
        await refreshRequests();
        const li = $('requests').querySelector(`li.request[data-beneficiary="${CSS.escape(m.beneficiary || '')}"]`);
        if (li) { live(li.querySelector('.request-line').textContent); break; }
        // Another coop's person (their node keeps the request).
        const row = document.querySelector(`button.call[data-beneficiary="${CSS.escape(m.beneficiary || '')}"]`);
        live(`${new Date().toLocaleTimeString().slice(0, 5)} · ${row ? row.dataset.name : ''} ${msg('request')}`);
        break;
      }
      case 'fine': {
        const row = document.querySelector(`button.call[data-beneficiary="${CSS.escape(m.beneficiary || '')}"]`);
        live(`${new Date().toLocaleTimeString().slice(0, 5)} · ${row ? row.dataset.name : ''} ${msg('fine')}`);
        break;
      }
      default: break;
    }
  }

  function live(text) {
    const li = document.createElement('li');
    li.textContent = text;
    $('live').prepend(li);
  }

  // refreshRequests replaces the list of call requests with the server's.
  async function refreshRequests() {
    try {
      const r = await fetch(location.pathname, { headers: { Accept: 'text/html' } });
      if (!r.ok) return false;
      const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
      const fresh = doc.getElementById('requests');
      if (!fresh) return false;
      $('requests').replaceWith(document.importNode(fresh, true));
      bind($('requests'));
      return true;
    } catch { return false; }
  }

  async function place(btn) {
    if (call) return;
    const stream = await media();
    call = { id: callID(), stream, pc: null, btn, answered: false };
    $('local-video').srcObject = stream;
    $('call-title').textContent = msg('incall').replace('{name}', btn.dataset.name || '');
    $('after-call').hidden = true;
    $('call-panel').hidden = false;
    $('call-title').focus();
    status(msg('calling'));
    send({ type: 'call', call: call.id, beneficiary: btn.dataset.beneficiary, node: btn.dataset.node || undefined });
  }

  async function offer() {
    call.pc = newPeer(ice, call.id, send, (s) => { $('remote-video').srcObject = s; });
    call.stream.getTracks().forEach((t) => call.pc.addTrack(t, call.stream));
    call.pc.onconnectionstatechange = () => {
      if (call && call.pc.connectionState === 'connected') status(msg('connected'));
    };
    call.stopWatch = watchQuality(call.pc, (poor) => { $('call-warning').textContent = poor ? msg('poor') : ''; });
    const o = await call.pc.createOffer();
    await call.pc.setLocalDescription(o);
    send({ type: 'offer', call: call.id, sdp: o.sdp });
  }

  function end(text) {
    if (!call) return;
    if (call.stopWatch) call.stopWatch();
    if (call.pc) call.pc.close();
    call.stream.getTracks().forEach((t) => t.stop());
    const done = call;
    call = null;
    $('call-panel').hidden = true;
    $('call-warning').textContent = '';
    status(text);
    if (done.answered) {
      // A finished call no longer looks pending; its outcome is one tap away.
      const row = done.btn.closest('tr');
      if (row) { row.classList.add('done'); done.btn.textContent = msg('again'); }
      const a = $('outcome-link');
      if (a) {
        a.href = `/cases/outcome?call=${encodeURIComponent(done.id)}`;
        $('after-call').hidden = false;
        a.focus();
        refreshRequests();
        return;
      }
      refreshRequests();
    }
    if (document.body.contains(done.btn)) done.btn.focus(); else $('call-status').focus();
  }

  function bind(scope) {
    scope.querySelectorAll('button.call').forEach((b) => b.addEventListener('click', () => place(b)));
  }
  bind(document);
  $('hangup').addEventListener('click', () => {
    if (call) { send({ type: 'hangup', call: call.id }); end(msg('ended')); }
  });
  $('mute').addEventListener('click', (e) => {
    if (!call) return;
    const a = call.stream.getAudioTracks()[0];
    a.enabled = !a.enabled;
    e.target.textContent = a.enabled ? msg('mute') : msg('unmute');
    e.target.setAttribute('aria-pressed', String(!a.enabled));
  });
  $('camera').addEventListener('click', (e) => {
    if (!call) return;
    const v = call.stream.getVideoTracks()[0];
    v.enabled = !v.enabled;
    e.target.textContent = v.enabled ? msg('camoff') : msg('camon');
    e.target.setAttribute('aria-pressed', String(!v.enabled));
  });
  $('feed-new').addEventListener('click', async () => {
    const r = await fetch('/api/v1/calls/feed', { method: 'POST' });
    if (r.ok) { const j = await r.json(); $('feed-url').textContent = `${msg('feed')} ${j.url}`; }
  });
  $('feed-revoke').addEventListener('click', async () => {
    const r = await fetch('/api/v1/calls/feed', { method: 'DELETE' });
    if (r.ok) $('feed-url').textContent = '';
  });
  connect();
}
