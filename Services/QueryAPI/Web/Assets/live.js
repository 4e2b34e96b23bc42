// One Server-Sent Events stream per page (GET /v1/live, with the session cookie): its events are passed on
// as `commlog:live` events of the document, and `commlog:reconnected` after a break (reload what you show).
// The stream is closed as the page is left: a page kept in the back-forward cache would otherwise hold one of
// the browser's six connections to the server, and a few such pages stall every next navigation.
let source;

window.addEventListener('pagehide', () => {
  if (source) source.close();
  source = null;
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) {
    startLive();
    document.dispatchEvent(new CustomEvent('commlog:reconnected'));
  }
});

export function startLive() {
  if (source || !window.EventSource) return;
  let broken = false;
  source = new EventSource('/v1/live');
  const names = ['call.opened', 'call.updated', 'communication.logged', 'communication.updated'];
  for (const name of names) {
    source.addEventListener(name, (event) => {
      let data = {};
      try { data = JSON.parse(event.data); } catch { return; }
      document.dispatchEvent(new CustomEvent('commlog:live', { detail: { name, data } }));
    });
  }
  source.addEventListener('open', () => {
    document.documentElement.dataset.live = 'open';
    if (broken) document.dispatchEvent(new CustomEvent('commlog:reconnected'));
    broken = false;
  });
  source.addEventListener('error', () => {
    document.documentElement.dataset.live = 'broken';
    broken = true;
  });
}
