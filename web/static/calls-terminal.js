// The terminal screen: clock, next call, "Sto bene" / "Chiamatemi", and
// incoming calls that ring, count down and answer by themselves. It keeps
// its pairing in localStorage and reconnects by itself.
import { wsURL, newPeer, media } from './calls-rtc.js';

const KEY = 'difronte.terminal.credential';
const root = document.getElementById('screen');
if (root) start();

function start() {
  const $ = (id) => document.getElementById(id);
  const msg = (k) => root.dataset['msg' + k.charAt(0).toUpperCase() + k.slice(1)] || '';
  const lang = root.dataset.lang === 'en' ? 'en-GB' : 'it-IT';
  const zone = root.dataset.zone || 'Europe/Rome'; // the coop's time zone
  let ws = null; let ice = []; let info = null; let call = null; let backoff = 1000; let audio = null;

  function show(id) {
    for (const s of ['home', 'ringing', 'incall', 'confirm', 'pairing']) $(s).hidden = s !== id;
  }
  function status(t) { $('status').textContent = t; }

  function tick() {
    const now = new Date();
    $('clock').textContent = now.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone: zone });
    $('date').textContent = now.toLocaleDateString(lang, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: zone });
  }
  setInterval(tick, 1000);
  tick();

  function showNext() {
    if (!info || !info.next) { $('next').textContent = msg('none'); return; }
    const t = new Date(info.next.start);
    const day = t.toLocaleDateString(lang, { weekday: 'long', timeZone: zone });
    const time = t.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone: zone });
    let text = msg('next').replace('{day}', day).replace('{time}', time);
    if (info.next.caregiver) text += ' ' + msg('at').replace('{name}', info.next.caregiver);
    $('next').textContent = text;
  }

  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

  async function pair(code) {
    const r = await fetch('/api/v1/calls/pair', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
    if (!r.ok) { $('pair-status').textContent = msg('badcode'); return false; }
    const j = await r.json();
    localStorage.setItem(KEY, j.credential);
    status(msg('paired'));
    return true;
  }

  function connect() {
    const cred = localStorage.getItem(KEY);
    if (!cred) { show('pairing'); return; }
    status(msg('offline'));
    ws = new WebSocket(wsURL('/ws/terminal'));
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', credential: cred }));
    ws.onmessage = (e) => handle(JSON.parse(e.data));
    ws.onclose = (e) => {
      endCall();
      if (e.code === 4001) {
        // Revoked or unknown: the pairing is gone for good.
        localStorage.removeItem(KEY);
        $('pair-status').textContent = msg('revoked');
        show('pairing');
        return;
      }
      status(msg('offline'));
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  async function handle(m) {
    switch (m.type) {
      case 'hello':
        backoff = 1000; ice = m.ice || []; info = m.info || null;
        status(''); showNext(); if (!call) show('home');
        break;
      case 'ring': ring(m); break;
      case 'offer': await answer(m); break;
      case 'candidate':
        if (call && call.pc && m.call === call.id && m.candidate && m.candidate.candidate) {
          try { await call.pc.addIceCandidate(m.candidate); } catch { /* stale */ }
        }
        break;
      case 'hangup': if (call && m.call === call.id) endCall(); break;
      case 'ok': confirmSent(m.reason === 'fine' ? msg('okFine') : msg('okRequest')); break;
      default: break;
    }
  }

  function beep() {
    try {
      audio = audio || new AudioContext();
      const o = audio.createOscillator(); const g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.3;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.4);
    } catch { /* no sound device: the screen still shows the call */ }
  }

  // confirmSent fills the screen with a calm confirmation for a while,
  // then goes back home (a call arriving meanwhile takes over).
  let confirmTimer = null;
  function confirmSent(text) {
    $('confirm-text').textContent = text;
    if (call) return;
    show('confirm');
    $('confirm-ok').focus();
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(() => { if (!call) show('home'); }, 20000);
  }
  $('confirm-ok').addEventListener('click', () => { clearTimeout(confirmTimer); if (!call) show('home'); });

  // initial is the calm avatar of a caller without a photo: the first
  // letter of the name on a soft colour chosen by the name, the same for
  // the same caller every time.
  function initial(el, name) {
    const n = (name || '').trim();
    el.textContent = n ? Array.from(n)[0].toLocaleUpperCase() : '';
    let h = 0;
    for (const c of n) h = (h * 31 + c.codePointAt(0)) % 360;
    el.style.setProperty('--avatar-hue', String(h));
    el.hidden = !n;
  }

  // callerPhoto puts the caller's photo in place of her avatar when the
  // node names one (a caregiver of this coop who has one). The terminal
  // reads it with its device credential; read as a data: URL, which the
  // page's policy allows for images. Unreadable, the avatar stays.
  const photos = () => [$('ring-photo'), $('caller-photo')];
  async function callerPhoto(m) {
    photos().forEach((i) => { i.hidden = true; i.removeAttribute('src'); });
    if (typeof m.photo !== 'string' || !m.photo.startsWith('/api/v1/caregivers/')) return;
    try {
      const r = await fetch(m.photo, { headers: { 'X-Difronte-Device': localStorage.getItem(KEY) || '' } });
      if (!r.ok) return;
      const blob = await r.blob();
      const url = await new Promise((ok, ko) => {
        const fr = new FileReader();
        fr.onload = () => ok(fr.result); fr.onerror = ko;
        fr.readAsDataURL(blob);
      });
      if (!call || call.id !== m.call) return;
      photos().forEach((i) => { i.src = url; i.hidden = false; });
      $('ring-avatar').hidden = true;
      $('caller-avatar').hidden = true;
    } catch { /* the avatar stays */ }
  }

  function ring(m) {
    if (call) return;
    clearTimeout(confirmTimer);
    $('caller-name').textContent = m.from || '';
    initial($('caller-avatar'), m.from);
    initial($('ring-avatar'), m.from);
    call = { id: m.call, pc: null, stream: null, timer: null };
    callerPhoto(m);
    let n = m.countdown || 10;
    $('ring-title').textContent = msg('calling').replace('{name}', m.from || '');
    const draw = () => { $('countdown').textContent = msg('answering').replace('{n}', n); };
    draw(); show('ringing'); beep();
    call.timer = setInterval(async () => {
      n -= 1;
      if (n > 0) { draw(); beep(); return; }
      clearInterval(call.timer);
      try { call.stream = await media(); } catch { call.stream = null; }
      if (!call) return;
      send({ type: 'accept', call: call.id });
      show('incall');
    }, 1000);
  }

  async function answer(m) {
    if (!call || m.call !== call.id) return;
    call.pc = newPeer(ice, call.id, send, (s) => { $('remote-video').srcObject = s; });
    if (call.stream) {
      $('local-video').srcObject = call.stream;
      call.stream.getTracks().forEach((t) => call.pc.addTrack(t, call.stream));
    }
    await call.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    const a = await call.pc.createAnswer();
    await call.pc.setLocalDescription(a);
    send({ type: 'answer', call: call.id, sdp: a.sdp });
  }

  function endCall() {
    if (!call) return;
    clearInterval(call.timer);
    if (call.pc) call.pc.close();
    if (call.stream) call.stream.getTracks().forEach((t) => t.stop());
    call = null;
    show('home');
  }

  $('fine').addEventListener('click', () => send({ type: 'fine' }));
  $('request').addEventListener('click', () => send({ type: 'request' }));
  $('pair-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await pair($('pair-code').value)) { show('home'); connect(); }
  });

  // The kiosk set up by `difronte terminal setup` opens
  // /terminal#credential=...: the fragment never reaches the server.
  const given = new URLSearchParams(location.hash.slice(1)).get('credential');
  if (given) {
    localStorage.setItem(KEY, given);
    history.replaceState(null, '', '/terminal');
  }
  const code = new URLSearchParams(location.search).get('code');
  if (code) {
    // The code is single-use: drop it from the address bar either way.
    history.replaceState(null, '', '/terminal');
    pair(code).then((ok) => (ok ? connect() : show('pairing')));
  } else {
    connect();
  }
}
