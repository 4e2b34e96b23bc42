// /launch#token=…&to=/clients/c-1: the token is read from the fragment (which no server ever sees), removed
// from the address and the history at once, and posted to /session, which sets the session cookie.
const parameters = new URLSearchParams(window.location.hash.slice(1));
history.replaceState(null, '', window.location.pathname);
const form = document.getElementById('launch');
const token = parameters.get('token');
if (token) {
  form.elements.token.value = token;
  form.elements.to.value = parameters.get('to') || '/';
  form.submit();
} else {
  document.getElementById('launch-message').textContent =
    'This link carries no sign-in. Open Commlog from your practice software.';
}
