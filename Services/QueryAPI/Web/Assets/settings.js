// /settings (admins): the organisation's own reasons, added and retired through the API.
import { api, announce } from './util.js';

export function startSettings() {
  for (const box of document.querySelectorAll('.reason-active')) {
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        await api('PATCH', `/v1/reasons/${encodeURIComponent(box.dataset.code)}`, { body: { active: box.checked } });
        announce(box.checked ? 'Reason in use again' : 'Reason retired');
      } catch (error) {
        box.checked = !box.checked;
        window.alert(error.message);
      } finally {
        box.disabled = false;
      }
    });
  }
  const form = document.getElementById('new-reason');
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = form.querySelector('.form-message');
    message.textContent = '';
    try {
      await api('POST', '/v1/reasons', { body: { code: form.elements.code.value.trim(), label: form.elements.label.value.trim() } });
      window.location.reload();
    } catch (error) {
      message.textContent = error.message;
    }
  });
}
