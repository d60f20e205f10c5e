// Progressive enhancement for every page. Everything works without it.
import { enhanceMunicipalities } from './municipalities.js';
import { enhanceMenus } from './nav.js';

function focusErrorSummary() {
  // A form sent back with errors: move focus to the summary so that screen
  // readers announce it and keyboard users start from the list of errors.
  const s = document.getElementById('errsum');
  if (s) s.focus();
}

focusErrorSummary();
enhanceMunicipalities(document);
enhanceMenus(document);
