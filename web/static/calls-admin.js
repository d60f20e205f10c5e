// The coop admin's calls page: every form posts JSON to the calls API,
// then reloads the page (or shows the pairing code and QR, or the token).
const root = document.getElementById('calls-admin');

// isoDay reads a date typed 31/12/2026 (or 31.12.2026, 31-12-2026, or
// ISO 2026-12-31) as ISO; '' when it is no date (31/02/2026).
function isoDay(s) {
  let m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(s);
  let y; let mo; let d;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = /^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$/.exec(s))) [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else return '';
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return '';
  return t.toISOString().slice(0, 10);
}
if (root) {
  const msg = (k) => root.dataset['msg' + k.charAt(0).toUpperCase() + k.slice(1)] || '';
  const status = document.getElementById('admin-status');
  for (const form of document.querySelectorAll('form.api')) {
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = {};
      for (const el of form.querySelectorAll('input[name], select[name]')) {
        const t = el.dataset.type;
        if (t === 'number') body[el.name] = Number(el.value);
        else if (t === 'list') body[el.name] = el.value.split(',').map((s) => s.trim()).filter(Boolean);
        else if (t === 'date') {
          // Typed day/month/year like every date of the pages (ISO taken
          // too); the API takes the end of that day.
          const iso = isoDay(el.value);
          el.setAttribute('aria-invalid', String(!iso));
          if (!iso) { status.textContent = msg('badDate'); el.focus(); return; }
          body[el.name] = new Date(`${iso}T23:59:00`).toISOString();
        }
        else body[el.name] = el.value;
      }
      const method = form.dataset.method;
      const r = await fetch(form.dataset.api, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: method === 'DELETE' || (method === 'POST' && form.dataset.show === 'pairing') ? undefined : JSON.stringify(body),
      });
      if (!r.ok) {
        let why = '';
        try { const j = await r.json(); why = j.fields ? Object.keys(j.fields).join(', ') : j.code; } catch { /* no body */ }
        status.textContent = `${msg('error')} ${why}`;
        return;
      }
      if (form.dataset.show === 'pairing') {
        const p = await r.json();
        const out = form.querySelector('.pairing-out');
        out.textContent = '';
        const code = document.createElement('p');
        code.className = 'pair-code';
        code.textContent = `${msg('code')} ${p.code.replace(/(\d{5})(\d{5})/, '$1 $2')} · ${msg('expires')} ${new Date(p.expires).toLocaleTimeString()}`;
        const img = document.createElement('img');
        img.src = p.qr; img.alt = p.url; img.width = 256; img.height = 256;
        out.append(code, img);
        return;
      }
      if (form.dataset.show === 'token') {
        const g = await r.json();
        form.querySelector('.token-out').textContent = `${msg('token')} ${g.token}`;
        return;
      }
      location.reload();
    });
  }
}
