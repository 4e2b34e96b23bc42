// A combobox over the directory search (GET /v1/directory/search): the search box on top of every screen and
// the call pop-up's "Related To". Typing lists matches; arrows move, Enter chooses, Escape closes.
import { api, debounce, el } from './util.js';

const kindLabels = { client: 'Client', patient: 'Patient', connection: 'Connection', staff: 'Staff' };
let counter = 0;

/** Makes `input` (role=combobox) look up `kinds` and call `choose(match)` with the one chosen. */
export function attachPicker(input, listbox, { kinds, choose, limit = 8 }) {
  const prefix = `picker-${++counter}`;
  let matches = [];
  let active = -1;
  let asked = 0;

  const close = () => {
    listbox.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };

  const highlight = (index) => {
    active = index;
    [...listbox.children].forEach((item, i) => item.setAttribute('aria-selected', String(i === index)));
    if (index >= 0 && listbox.children[index]) {
      input.setAttribute('aria-activedescendant', listbox.children[index].id);
      listbox.children[index].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };

  const pick = (match) => {
    close();
    choose(match);
  };

  const show = (found) => {
    matches = found;
    listbox.replaceChildren(...found.map((match, index) => el('li', {
      id: `${prefix}-${index}`, role: 'option', 'aria-selected': 'false',
      onmousedown: (event) => { event.preventDefault(); pick(match); },
    }, el('span', { class: 'kind' }, kindLabels[match.kind] || match.kind), el('span', { class: 'name' }, match.name),
    el('span', { class: 'extra' }, describe(match)))));
    if (found.length === 0) listbox.replaceChildren(el('li', { role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, 'No matches'));
    listbox.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(found.length ? 0 : -1);
  };

  const lookUp = debounce(async () => {
    const q = input.value.trim();
    if (!q) { close(); return; }
    const mine = ++asked;
    try {
      const query = new URLSearchParams({ q, limit: String(limit) });
      if (kinds) query.set('kinds', kinds.join(','));
      const { data } = await api('GET', `/v1/directory/search?${query}`);
      if (mine === asked) show(data.items);
    } catch (error) {
      if (mine === asked) { matches = []; listbox.replaceChildren(el('li', { role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, error.message)); listbox.hidden = false; }
    }
  }, 150);

  input.addEventListener('input', lookUp);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && matches.length) { event.preventDefault(); highlight(Math.min(active + 1, matches.length - 1)); }
    else if (event.key === 'ArrowUp' && matches.length) { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (event.key === 'Enter') {
      event.preventDefault();
      if (!listbox.hidden && matches[active]) pick(matches[active]);
      else lookUp.flush();
    } else if (event.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  return { close };
}

/** What tells two matches of the same name apart. */
function describe(match) {
  if (match.kind === 'patient' && match.client_name) return `of ${match.client_name}`;
  if (match.kind === 'connection') return [match.relationship, match.client_name && `of ${match.client_name}`].filter(Boolean).join(', ');
  if (match.kind === 'staff') return match.extension ? `ext. ${match.extension}` : '';
  return (match.phones && match.phones[0]) || (match.emails && match.emails[0]) || '';
}

/** The screen of a match: a connection opens its client. */
export function screenOf(match) {
  switch (match.kind) {
    case 'client': return `/clients/${encodeURIComponent(match.id)}`;
    case 'patient': return `/patients/${encodeURIComponent(match.id)}`;
    case 'staff': return `/staff/${encodeURIComponent(match.id)}`;
    case 'connection': return match.client_id ? `/clients/${encodeURIComponent(match.client_id)}` : null;
    default: return null;
  }
}

/**
 * "Related To": the staff, connections and clients an entry relates to, as removable chips with a picker to add
 * more. `related` is `[{kind, id, name}]`; `changed(list)` is called with the new list after each change.
 * Returns the field and `set(list)` to show a list that changed elsewhere.
 */
export function relatedField(idPrefix, related, changed) {
  let current = [...related];
  const chips = el('ul', { class: 'chips', 'aria-label': 'Related to' });
  const input = el('input', {
    id: `${idPrefix}-related`, type: 'search', role: 'combobox', autocomplete: 'off', 'aria-expanded': 'false',
    'aria-controls': `${idPrefix}-related-list`, 'aria-autocomplete': 'list', placeholder: 'Type a name',
  });
  const list = el('ul', { id: `${idPrefix}-related-list`, class: 'listbox', role: 'listbox', hidden: true, 'aria-label': 'Matches' });
  const render = () => chips.replaceChildren(...current.map((r) => el('li', {}, r.name,
    el('button', { type: 'button', 'aria-label': `Remove ${r.name}`, onclick: () => {
      current = current.filter((x) => !(x.kind === r.kind && x.id === r.id));
      render();
      changed(current);
    } }, '×'))));
  attachPicker(input, list, {
    kinds: ['staff', 'connection', 'client'],
    choose: (match) => {
      input.value = '';
      current = current.filter((r) => !(r.kind === match.kind && r.id === match.id));
      current.push({ kind: match.kind, id: match.id, name: match.name });
      render();
      changed(current);
    },
  });
  render();
  const field = el('div', { class: 'field picker' }, el('label', { for: input.id }, 'Related To'), chips, input, list);
  return {
    field,
    set(list_) {
      current = [...list_];
      render();
    },
  };
}
