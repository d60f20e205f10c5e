// The main menu's groups are <details> disclosures, usable without this.
// Here: one group open at a time, Escape closes it and gives focus back
// to its summary, a click elsewhere closes it.
export function enhanceMenus(doc) {
  const menus = [...doc.querySelectorAll('.main-nav details.menu')];
  if (menus.length === 0) return;
  for (const m of menus) {
    m.addEventListener('toggle', () => {
      if (!m.open) return;
      for (const o of menus) if (o !== m) o.open = false;
    });
    m.addEventListener('focusout', (e) => {
      if (m.open && e.relatedTarget && !m.contains(e.relatedTarget)) m.open = false;
    });
    m.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || !m.open) return;
      m.open = false;
      m.querySelector('summary').focus();
    });
  }
  doc.addEventListener('click', (e) => {
    for (const m of menus) if (m.open && !m.contains(e.target)) m.open = false;
  });
}
