// The certificate page's print button (the browser's own print works too).
const b = document.getElementById('print-cert');
if (b) b.addEventListener('click', () => window.print());
