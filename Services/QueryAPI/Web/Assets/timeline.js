// A timeline screen (client, patient, staff, board): the selected entry in full beneath the table, more rows
// as you scroll, new entries at the top as they are logged, and New / Edit / Delete / Re-file.
import { api, APIError, announce, debounce, directionLabels, el, formatDateTime, me, segment, typeLabels } from './util.js';
import { attachPicker, relatedField } from './picker.js';

const manualTypes = ['note', 'phone', 'mail', 'sms', 'email'];
let table;
let detail;
let selectedID = null;

export function startTimeline() {
  table = document.getElementById('log');
  detail = document.getElementById('detail');
  if (!table) return;
  const body = table.tBodies[0];
  body.addEventListener('click', (event) => {
    if (event.target.closest('a:not(.entry-link)')) return; // a client's or patient's own link
    const row = event.target.closest('tr[data-id]');
    if (!row) return;
    event.preventDefault();
    select(row.dataset.id);
  });
  body.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const row = event.target.closest('tr[data-id]');
    const next = row && (event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling);
    if (next) {
      event.preventDefault();
      next.querySelector('.entry-link').focus();
    }
  });
  const match = window.location.hash.match(/^#entry-([0-9a-f-]{36})$/);
  if (match) select(match[1]);

  startMoreRows();
  const refresh = debounce(refreshTop, 250);
  document.addEventListener('commlog:live', (event) => {
    const { name, data } = event.detail;
    if (name === 'communication.logged' || name === 'communication.updated' || name === 'call.updated') refresh(data.communication_id);
  });
  document.addEventListener('commlog:reconnected', () => refresh());
  document.getElementById('new-entry')?.addEventListener('click', (event) => {
    openEntryForm({ clientID: event.currentTarget.dataset.clientId, patientID: event.currentTarget.dataset.patientId || null });
  });
}

// MARK: Rows

function columns() {
  return [...table.tHead.rows[0].cells].map((cell) => cell.dataset.col);
}

/** A row as the server draws it (`row.mustache`). */
function rowFor(entry) {
  const cells = {
    when: () => [el('a', { class: 'entry-link', href: `#entry-${entry.id}`, dataset: { id: entry.id } },
      el('time', { datetime: entry.occurred_at }, formatDateTime(entry.occurred_at))),
    entry.status === 'open' ? [' ', el('span', { class: 'badge badge-open' }, 'Open call')] : null],
    client: () => entry.client_id
      ? el('a', { href: `/clients/${segment(entry.client_id)}` }, entry.client_name || entry.client_id)
      : el('span', { class: 'muted' }, 'Unfiled'),
    patient: () => entry.patient_id ? el('a', { href: `/patients/${segment(entry.patient_id)}` }, entry.patient_name || entry.patient_id) : null,
    type: () => [typeLabels[entry.type] || entry.type, entry.has_recording ? [' ', el('span', { class: 'badge' }, 'Recording')] : null],
    direction: () => directionLabels[entry.direction] || '',
    reason: () => entry.reason_label || entry.reason || '',
    location: () => entry.location_name || entry.location_id || '',
    address: () => entry.address || '',
    description: () => describe(entry),
    record: () => entry.show_in_patient_history
      ? `Shown${entry.print_in_patient_history ? ', printed' : ''}` : el('span', { class: 'muted' }, 'Hidden'),
  };
  const classes = { when: 'when', address: 'address', description: 'description' };
  const row = el('tr', { dataset: { id: entry.id, version: String(entry.version) }, class: entry.status === 'open' ? 'open' : null },
    ...columns().map((column) => el('td', { class: classes[column] }, cells[column] ? cells[column]() : '')));
  if (entry.id === selectedID) row.setAttribute('aria-selected', 'true');
  return row;
}

function describe(entry) {
  const text = [entry.subject, entry.description].map((value) => (value || '').trim()).find(Boolean) || '';
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

function pageURL(extra) {
  const query = new URLSearchParams(table.dataset.apiQuery);
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  return `/v1/communications?${query}`;
}

/** The next pages, as the "Show more" button comes into view (or is pressed). */
function startMoreRows() {
  const more = document.getElementById('more');
  let loading = false;
  const loadMore = async () => {
    const cursor = table.dataset.cursor;
    if (loading || !cursor) return;
    loading = true;
    more.disabled = true;
    try {
      const { data } = await api('GET', pageURL({ cursor }));
      const body = table.tBodies[0];
      const present = new Set([...body.rows].map((row) => row.dataset.id));
      for (const entry of data.items) if (!present.has(entry.id)) body.append(rowFor(entry));
      table.dataset.cursor = data.next_cursor || '';
      more.hidden = !data.next_cursor;
      announce(`${data.items.length} more communications shown`);
    } catch (error) {
      announce(`More communications could not be loaded: ${error.message}`);
    } finally {
      loading = false;
      more.disabled = false;
    }
  };
  more.addEventListener('click', loadMore);
  if (window.IntersectionObserver) {
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    }, { rootMargin: '200px' }).observe(more);
  }
}

/** New and changed entries at the top: the first page is read again and merged in. */
async function refreshTop(changedID) {
  let data;
  try {
    ({ data } = await api('GET', pageURL({ limit: '50' })));
  } catch {
    return;
  }
  const body = table.tBodies[0];
  const rows = new Map([...body.rows].map((row) => [row.dataset.id, row]));
  const oldest = data.items.length ? data.items[data.items.length - 1].occurred_at : null;
  const listed = new Set(data.items.map((entry) => entry.id));
  // Rows within the first page's span that it no longer lists were deleted or moved away.
  for (const [id, row] of rows) {
    const time = row.querySelector('time')?.getAttribute('datetime');
    if (!listed.has(id) && time && oldest && new Date(time) >= new Date(oldest)) row.remove();
  }
  let anchor = null;
  for (const entry of data.items) {
    const existing = rows.get(entry.id);
    if (existing && existing.isConnected && existing.dataset.version === String(entry.version)) {
      // Unchanged: left as it is, so that a focused link or a selection stays where it is.
      anchor = existing;
      continue;
    }
    const row = rowFor(entry);
    if (existing && existing.isConnected) {
      existing.replaceWith(row);
    } else {
      row.classList.add('fresh');
      if (anchor) anchor.after(row);
      else body.prepend(row);
    }
    anchor = row;
  }
  document.getElementById('empty').hidden = body.rows.length > 0;
  // The selected entry changed elsewhere: shown again, unless the detail shows that version already.
  const changed = data.items.find((entry) => entry.id === changedID);
  if (changedID && changedID === selectedID && (!changed || String(changed.version) !== detail.dataset.version)) {
    select(selectedID, { keepScroll: true });
  }
}

// MARK: The selected entry

// What the detail says above the entry (a refused edit's reason), kept while the same entry is shown again.
let detailMessage = null;
// Only the newest of overlapping reads of the detail is drawn.
let selecting = 0;

async function select(id, { keepScroll = false, message = null } = {}) {
  selectedID = id;
  if (message) detailMessage = { id, text: message };
  else if (!keepScroll || detailMessage?.id !== id) detailMessage = null;
  for (const row of table.tBodies[0].rows) {
    if (row.dataset.id === id) row.setAttribute('aria-selected', 'true');
    else row.removeAttribute('aria-selected');
  }
  const ticket = ++selecting;
  let entry;
  let etag;
  try {
    ({ data: entry, etag } = await api('GET', `/v1/communications/${id}`));
  } catch (error) {
    if (ticket !== selecting) return;
    detail.hidden = false;
    detail.replaceChildren(el('p', { class: 'message' }, error.status === 404 ? 'This entry no longer exists or you may not see it.' : error.message));
    return;
  }
  if (ticket !== selecting) return;
  renderDetail(entry, etag, detailMessage?.id === id ? detailMessage.text : null);
  if (!keepScroll) {
    history.replaceState(null, '', `${window.location.pathname}${window.location.search}#entry-${id}`);
    detail.focus({ preventScroll: true });
    detail.scrollIntoView({ block: 'nearest' });
  }
}

function mayChange(entry) {
  return entry.source === 'manual' && (entry.author_staff_id === me.id || me.seesEverything);
}

function field(label, ...value) {
  const content = value.flat().filter((item) => item !== null && item !== undefined && item !== '');
  return content.length ? [el('dt', {}, label), el('dd', {}, ...content)] : [];
}

function renderDetail(entry, etag, message) {
  const version = etag ? etag.replace(/"/g, '') : String(entry.version);
  const title = [typeLabels[entry.type] || entry.type, entry.direction ? (entry.direction === 'inbound' ? 'inbound' : 'outbound') : null]
    .filter(Boolean).join(', ');
  const link = (kind, id, name) => (id ? el('a', { href: `/${kind}/${segment(id)}` }, name || id) : null);
  const duration = entry.duration_s != null ? `${Math.floor(entry.duration_s / 60)} min ${entry.duration_s % 60} s` : null;
  const parts = [
    el('header', {},
      el('h2', {}, `${title} · ${formatDateTime(entry.occurred_at)}`),
      entry.type === 'phone' && entry.source === 'phone'
        ? el('span', { class: entry.status === 'open' ? 'badge badge-open' : 'badge' }, entry.status === 'open' ? 'Open call' : 'Call closed')
        : null),
  ];
  if (message) parts.push(el('p', { class: 'message', role: 'alert' }, message));
  parts.push(el('dl', { class: 'fields' },
    field('Client', link('clients', entry.client_id, entry.client_name) || el('span', { class: 'muted' }, 'Unfiled')),
    field('Patient', link('patients', entry.patient_id, entry.patient_name)),
    field('Reason', entry.reason_label || entry.reason),
    field('Location', entry.location_name || entry.location_id),
    field('Address', entry.address),
    field('Subject', entry.subject),
    field('Description', entry.description && el('span', { class: 'content-inline' }, entry.description)),
    field('Notes', entry.notes),
    field('Author', link('staff', entry.author_staff_id, entry.author_name)),
    field('Outcome', entry.outcome),
    field('Duration', duration),
    field('Template', entry.template),
    field('Source', { manual: 'Logged by hand', mailbox: 'Shared mailbox', practice: 'Practice software', phone: 'Phone system', import: 'Imported' }[entry.source] || entry.source),
    field('Medical record', entry.patient_id ? `${entry.show_in_patient_history ? 'Shown' : 'Not shown'}, ${entry.print_in_patient_history ? 'printed' : 'not printed'}` : null)));

  if (entry.participants.length) {
    parts.push(el('h3', {}, 'Participants'), el('table', { class: 'detail-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Role'), el('th', { scope: 'col' }, 'Who'), el('th', { scope: 'col' }, 'Address'))),
      el('tbody', {}, ...entry.participants.map((p) => el('tr', {},
        el('td', {}, p.role.toUpperCase() === 'CC' ? 'CC' : p.role[0].toUpperCase() + p.role.slice(1)),
        el('td', {}, p.kind === 'client' && p.id ? link('clients', p.id, p.name) : p.kind === 'staff' && p.id ? link('staff', p.id, p.name) : (p.name || (p.kind === 'external' ? 'Not in the directory' : p.id || ''))),
        el('td', {}, p.address || ''))))));
  }
  if (entry.content) {
    const content = el('div', { class: 'content', tabindex: '0', 'aria-label': 'Content' }, entry.content);
    parts.push(el('h3', {}, 'Content'), content);
    if (entry.type === 'email') {
      // Plain text first; the formatted email on request, in a sandbox without scripts, and its remote images
      // (tracking pixels) only when asked for again.
      const help = el('span', { class: 'help' }, 'Formatted emails show without scripts or remote images.');
      const frame = (remote) => el('iframe', {
        src: `/v1/communications/${entry.id}/html${remote ? '?remote_images=true' : ''}`, sandbox: '', referrerpolicy: 'no-referrer',
        title: remote ? 'The email as it was formatted, with its remote images' : 'The email as it was formatted, without remote images',
      });
      const images = el('button', { type: 'button', class: 'secondary', onclick: () => {
        images.remove();
        help.textContent = 'Remote images are shown: their senders can see that the email was opened.';
        detail.querySelector('iframe')?.replaceWith(frame(true));
      } }, 'Load remote images');
      const show = el('button', { type: 'button', class: 'secondary', onclick: () => {
        show.replaceWith(images);
        content.replaceWith(frame(false));
      } }, 'Show as formatted');
      parts.push(el('p', {}, show, ' ', help));
    }
  }
  if (entry.attachments.length) {
    parts.push(el('h3', {}, 'Attachments'), el('ul', {}, ...entry.attachments.map((a) => el('li', {},
      a.has_content ? el('a', { href: `/v1/communications/${entry.id}/attachments/${a.id}`, download: a.name }, a.name) : a.name,
      ` (${a.content_type}, ${size(a.size)})`))));
  }
  if (entry.recording) {
    parts.push(el('h3', {}, 'Recording'), el('audio', {
      controls: true, preload: 'none', src: `/v1/communications/${entry.id}/recording`, 'aria-label': 'Call recording',
    }), el('p', { class: 'help' }, 'Listening is recorded in the entry\'s reads.'));
  }
  const history = el('div', { class: 'history' });
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'secondary', onclick: (event) => showHistory(entry.id, history, event.currentTarget) }, 'History of changes'),
    el('button', { type: 'button', class: 'secondary', onclick: () => openRefileForm(entry, version) }, 'Re-file'));
  if (mayChange(entry)) {
    actions.append(
      el('button', { type: 'button', onclick: () => openEntryForm({ entry, version }) }, 'Edit'),
      el('button', { type: 'button', class: 'danger', onclick: () => remove(entry, version) }, 'Delete'));
  }
  parts.push(actions, history);
  detail.replaceChildren(...parts);
  detail.dataset.version = version;
  detail.hidden = false;
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function showHistory(id, container, button) {
  button.disabled = true;
  try {
    const { data } = await api('GET', `/v1/communications/${id}/history`);
    const labels = { create: 'Logged', update: 'Changed', delete: 'Deleted', end_call: 'Call ended', auto_close: 'Closed automatically' };
    container.replaceChildren(el('h3', {}, 'History of changes'), el('ol', {}, ...data.items.map((change) => {
      const changed = change.before && change.after
        ? Object.keys(change.after).filter((key) => JSON.stringify(change.before[key]) !== JSON.stringify(change.after[key]) && key !== 'version')
        : [];
      return el('li', {}, `${formatDateTime(change.at)} · ${labels[change.action] || change.action} by ${change.staff_name || change.staff_id || 'Commlog'}`,
        changed.length ? ` · ${changed.map((key) => key.replace(/_/g, ' ')).join(', ')}` : '');
    })));
  } catch (error) {
    container.replaceChildren(el('p', { class: 'message' }, error.message));
  } finally {
    button.disabled = false;
  }
}

async function remove(entry, version) {
  if (!window.confirm('Delete this entry? It stays in the history of changes.')) return;
  try {
    await api('DELETE', `/v1/communications/${entry.id}`, { headers: { 'If-Match': `"${version}"` } });
    table.tBodies[0].querySelector(`tr[data-id="${entry.id}"]`)?.remove();
    detail.hidden = true;
    selectedID = null;
    announce('Entry deleted');
  } catch (error) {
    if (error.status === 412) select(entry.id, { message: 'Someone else changed this entry since you opened it: this is the current version. Delete it again if you still want to.' });
    else window.alert(error.message);
  }
}

// MARK: Forms

/** A modal form: `build(form)` adds the fields; `submit(form)` sends them and returns true when done. */
function dialog(titleText, build, submit) {
  const message = el('p', { class: 'form-message', role: 'alert' });
  const form = el('form', { method: 'dialog' });
  const heading = el('h2', { id: `dialog-${Date.now()}` }, titleText);
  const box = el('dialog', { 'aria-labelledby': heading.id }, heading, form);
  build(form);
  const save = el('button', { type: 'submit' }, 'Save');
  form.append(message, el('div', { class: 'buttons' },
    el('button', { type: 'button', class: 'secondary', onclick: () => box.close() }, 'Cancel'), save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    message.textContent = '';
    try {
      if (await submit(form)) box.close();
    } catch (error) {
      message.textContent = error.message;
    } finally {
      save.disabled = false;
    }
  });
  box.addEventListener('close', () => box.remove());
  document.body.append(box);
  box.showModal();
  return box;
}

function labelled(id, label, control) {
  control.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label), control);
}

function choices(name, options, selected, { blank } = {}) {
  return el('select', { name },
    blank !== undefined ? el('option', { value: '' }, blank) : null,
    ...options.map(([value, label]) => el('option', { value, selected: value === selected }, label)));
}

let reasonsCache;
async function reasons() {
  reasonsCache ??= api('GET', '/v1/reasons').then(({ data }) => data.items);
  return reasonsCache;
}

/** New entry (`clientID`, `patientID`) or edit (`entry`, `version`) of a manual entry. */
async function openEntryForm({ clientID, patientID, entry, version }) {
  const client = entry ? entry.client_id : clientID;
  const [allReasons, directory] = await Promise.all([
    reasons(), client ? api('GET', `/v1/directory/clients/${segment(client)}`).then(({ data }) => data).catch(() => null) : null,
  ]);
  const current = entry || { type: 'note', patient_id: patientID, direction: 'outbound' };
  const reasonOptions = allReasons.filter((r) => r.active || r.code === current.reason).map((r) => [r.code, r.label]);
  const patients = (directory?.patients || []).map((p) => [p.id, p.name]);
  dialog(entry ? 'Edit entry' : `New entry${directory ? ` for ${directory.name}` : ''}`, (form) => {
    const type = choices('type', manualTypes.map((t) => [t, typeLabels[t]]), current.type);
    if (entry) type.disabled = true;
    const direction = choices('direction', [['outbound', 'Outbound'], ['inbound', 'Inbound']], current.direction || 'outbound');
    const directionField = labelled('entry-direction', 'Direction', direction);
    const showDirection = () => { directionField.hidden = type.value === 'note'; };
    type.addEventListener('change', showDirection);
    showDirection();
    form.append(
      el('div', { class: 'row' }, labelled('entry-type', 'Type', type), directionField,
        labelled('entry-patient', 'Patient', choices('patient_id', patients, current.patient_id || '', { blank: 'None' }))),
      el('div', { class: 'row' }, labelled('entry-reason', 'Reason', choices('reason', reasonOptions, current.reason || '', { blank: 'None' })),
        labelled('entry-address', 'Address', el('input', { name: 'address', maxlength: 1000, value: current.address || '', autocomplete: 'off' }))),
      labelled('entry-subject', 'Subject', el('input', { name: 'subject', maxlength: 1000, value: current.subject || '', autocomplete: 'off' })),
      labelled('entry-description', 'Description', el('textarea', { name: 'description', maxlength: 100000 }, current.description || '')),
      labelled('entry-notes', 'Notes', el('textarea', { name: 'notes', maxlength: 100000 }, current.notes || '')));
  }, async (form) => {
    const values = Object.fromEntries(new FormData(form));
    const isNote = (entry ? entry.type : values.type) === 'note';
    if (entry) {
      const body = {
        patient_id: values.patient_id, reason: values.reason, address: values.address,
        subject: values.subject, description: values.description, notes: values.notes,
      };
      if (!isNote) body.direction = values.direction;
      return change(entry, version, body, 'Entry saved',
        'Someone else changed this entry while you were editing it. This is their version; your changes were not saved.');
    }
    const body = { type: values.type, client_id: clientID };
    for (const key of ['patient_id', 'reason', 'address', 'subject', 'description', 'notes']) if (values[key]) body[key] = values[key];
    if (!isNote) body.direction = values.direction;
    const { data } = await api('POST', '/v1/communications', { body });
    await refreshTop();
    select(data.id);
    announce('Entry logged');
    return true;
  });
}

/** Where an entry is filed: its client, patient and medical-record flags. */
async function openRefileForm(entry, version) {
  let clientID = entry.client_id;
  let clientName = entry.client_name || entry.client_id || '';
  const patientSelect = choices('patient_id', [], '', { blank: 'None' });
  const fillPatients = async (selected) => {
    let patients = [];
    if (clientID) {
      try {
        ({ data: { patients } } = await api('GET', `/v1/directory/clients/${segment(clientID)}`));
      } catch { patients = []; }
    }
    patientSelect.replaceChildren(el('option', { value: '' }, 'None'),
      ...patients.map((p) => el('option', { value: p.id, selected: p.id === selected }, p.name)));
  };
  await fillPatients(entry.patient_id);
  const relatedNow = entry.participants.filter((p) => p.role === 'related' && p.id).map((p) => ({ kind: p.kind, id: p.id, name: p.name || p.id }));
  let related = null; // unchanged
  const relatedTo = relatedField('refile', relatedNow, (list) => { related = list; });
  dialog('Re-file entry', (form) => {
    const chosen = el('p', { class: 'help', id: 'refile-client-chosen' }, clientName ? `Filed under ${clientName}` : 'Not filed under a client');
    const input = el('input', {
      id: 'refile-client', type: 'search', role: 'combobox', autocomplete: 'off', 'aria-expanded': 'false', 'aria-controls': 'refile-client-list',
      'aria-autocomplete': 'list', 'aria-describedby': 'refile-client-chosen', placeholder: 'Type a client\'s name',
    });
    const list = el('ul', { id: 'refile-client-list', class: 'listbox', role: 'listbox', hidden: true, 'aria-label': 'Clients' });
    attachPicker(input, list, {
      kinds: ['client'],
      choose: (match) => {
        clientID = match.id;
        clientName = match.name;
        chosen.textContent = `Filed under ${match.name}`;
        input.value = '';
        fillPatients(null);
      },
    });
    form.append(
      el('div', { class: 'field picker' }, el('label', { for: 'refile-client' }, 'Client'), input, list, chosen),
      labelled('refile-patient', 'Patient', patientSelect),
      relatedTo.field,
      el('div', { class: 'field field-check' }, el('input', { type: 'checkbox', id: 'refile-show', name: 'show', checked: entry.show_in_patient_history }),
        el('label', { for: 'refile-show' }, 'Show in the patient\'s medical record')),
      el('div', { class: 'field field-check' }, el('input', { type: 'checkbox', id: 'refile-print', name: 'print', checked: entry.print_in_patient_history }),
        el('label', { for: 'refile-print' }, 'Print with the medical record')));
  }, async (form) => {
    const body = {
      patient_id: form.elements.patient_id.value,
      show_in_patient_history: form.elements.show.checked,
      print_in_patient_history: form.elements.print.checked,
    };
    if (clientID && clientID !== entry.client_id) body.client_id = clientID;
    if (related) body.related = related.map(({ kind, id }) => ({ kind, id }));
    return change(entry, version, body, 'Entry re-filed', 'Someone else changed this entry meanwhile. This is the current version; re-file it again.');
  });
}

/** Sends `body` as a change of the version shown; a stale version shows the current one with `staleMessage`. */
async function change(entry, version, body, doneMessage, staleMessage) {
  try {
    await api('PATCH', `/v1/communications/${entry.id}`, { body, headers: { 'If-Match': `"${version}"` } });
  } catch (error) {
    if (error.status !== 412) throw error;
    select(entry.id, { message: staleMessage });
    return true;
  }
  detailMessage = null;
  select(entry.id, { keepScroll: true });
  refreshTop();
  announce(doneMessage);
  return true;
}
