// Municipality autocomplete: inputs marked data-municipality get a
// <datalist> filled from /api/v1/municipalities as the user types. The
// server accepts an ISTAT code, a "code name (province)" text, or an exact
// name, so the form works the same without this module.

const wait = 200; // ms of quiet typing before asking the server

export function enhanceMunicipalities(root) {
  root.querySelectorAll('input[data-municipality]').forEach((input, i) => {
    const list = document.createElement('datalist');
    list.id = `${input.id || 'muni'}-list-${i}`;
    input.after(list);
    input.setAttribute('list', list.id);
    let timer = 0;
    let last = '';
    let ctrl = null;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (q.length < 2 || q === last || /^\d{6}\s/.test(q)) return;
        last = q;
        if (ctrl) ctrl.abort();
        ctrl = new AbortController();
        try {
          const res = await fetch(`/api/v1/municipalities?q=${encodeURIComponent(q)}`, { signal: ctrl.signal, headers: { Accept: 'application/json' } });
          if (!res.ok) return;
          const body = await res.json();
          list.replaceChildren(...body.results.map((m) => {
            const o = document.createElement('option');
            o.value = `${m.code} ${m.name} (${m.province})`;
            return o;
          }));
        } catch (e) {
          if (e.name !== 'AbortError') list.replaceChildren();
        }
      }, wait);
    });
  });
}
