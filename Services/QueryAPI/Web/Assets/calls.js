// The call pop-ups, bottom right: one per open call of the signed-in staff member (GET /v1/calls/open), there
// again after a reload or in another tab until the call is ended, gone when it is ended elsewhere. Title,
// Related To and Description save as you type (PATCH with If-Match); End Call closes the call.
import { api, APIError, announce, debounce, el, formatDateTime, typeLabels } from './util.js';
import { relatedField } from './picker.js';

const cards = new Map(); // call id -> card

export function startCalls() {
  const stack = document.getElementById('calls');
  if (!stack) return;
  const refresh = debounce(() => load(stack), 100);
  document.addEventListener('commlog:live', (event) => {
    if (event.detail.name.startsWith('call.')) refresh();
  });
  document.addEventListener('commlog:reconnected', refresh);
  // A safety net under the live stream (a proxy that buffers it, a laptop waking up).
  setInterval(refresh, 30000);
  load(stack);
}

async function load(stack) {
  let calls;
  try {
    ({ data: { items: calls } } = await api('GET', '/v1/calls/open'));
  } catch {
    return;
  }
  const open = new Set(calls.map((call) => call.id));
  for (const [id, card] of cards) {
    if (!open.has(id)) {
      card.element.remove();
      cards.delete(id);
    }
  }
  for (const call of calls) {
    const card = cards.get(call.id);
    if (card) card.update(call);
    else {
      const created = new CallCard(call);
      cards.set(call.id, created);
      stack.append(created.element);
      announce(`Call ${created.whoText()}`);
    }
  }
}

/** The other party of a call: the caller of an inbound call, the callee of an outbound one. */
function otherParty(call) {
  const role = call.direction === 'outbound' ? 'callee' : 'caller';
  return call.participants.find((p) => p.role === role) || call.participants.find((p) => p.kind !== 'staff' && p.role !== 'related');
}

class CallCard {
  constructor(call) {
    this.call = call;
    this.version = call.version;
    const id = call.id;
    this.heading = el('h2', { id: `call-${id}-heading` });
    this.state = el('p', { class: 'state' });
    this.candidates = el('ul', { class: 'candidates', hidden: true, 'aria-label': 'Who it may be' });
    this.candidatesNote = el('p', { class: 'help', hidden: true }, 'The number is shared by:');
    this.recent = el('ul', { class: 'recent', hidden: true, 'aria-label': 'Recent communications' });
    this.title = el('input', { id: `call-${id}-title`, maxlength: 1000, autocomplete: 'off' });
    this.description = el('textarea', { id: `call-${id}-description`, maxlength: 100000 });
    this.relatedTo = relatedField(`call-${id}`, [], (related) => this.save({ related: related.map(({ kind, id: refID }) => ({ kind, id: refID })) }));
    this.saved = el('p', { class: 'saved', role: 'status' });
    this.element = el('section', { class: 'call', 'aria-labelledby': `call-${id}-heading`, dataset: { callId: id } },
      this.heading, this.state, this.candidatesNote, this.candidates, this.recent,
      el('div', { class: 'field' }, el('label', { for: this.title.id }, 'Title'), this.title),
      this.relatedTo.field,
      el('div', { class: 'field' }, el('label', { for: this.description.id }, 'Description'), this.description),
      this.saved,
      el('button', { type: 'button', class: 'end', onclick: () => this.end() }, 'End Call'));

    // Changes are sent one after the other (each needs the version the previous one made); a field typed in
    // and not yet saved is never overwritten by what the server sends back.
    this.queue = Promise.resolve();
    this.unsaved = new Set();
    const save = debounce(() => this.save(this.typed()), 600);
    for (const [name, input] of [['title', this.title], ['description', this.description]]) {
      input.addEventListener('input', () => { this.unsaved.add(name); save(); });
      input.addEventListener('blur', () => { if (this.unsaved.size) save.flush(); });
    }
    this.update(call, true);
    this.loadContext();
  }

  /** The typed fields not yet saved. */
  typed() {
    const fields = {};
    if (this.unsaved.has('title')) fields.title = this.title.value;
    if (this.unsaved.has('description')) fields.description = this.description.value;
    return fields;
  }

  /** The matched clients and connections on the other end. */
  parties() {
    const role = this.call.direction === 'outbound' ? 'callee' : 'caller';
    return this.call.participants.filter((p) => p.role === role && p.id && (p.kind === 'client' || p.kind === 'connection'));
  }

  whoText() {
    const party = otherParty(this.call);
    if (this.call.client_name) return `${this.call.direction === 'outbound' ? 'to' : 'from'} ${this.call.client_name}`;
    if (party) return `${this.call.direction === 'outbound' ? 'to' : 'from'} ${party.name || party.address || 'an unknown number'}`;
    return '';
  }

  related() {
    return this.call.participants.filter((p) => p.role === 'related' && p.id).map((p) => ({ kind: p.kind, id: p.id, name: p.name || p.id }));
  }

  update(call, first = false) {
    this.call = call;
    this.version = Math.max(this.version, call.version);
    const party = otherParty(call);
    const shared = this.parties().length > 1;
    const name = (shared ? party && party.address : call.client_name || (party && (party.name || party.address))) || 'Unknown number';
    this.heading.textContent = `${call.direction === 'outbound' ? 'Call to' : 'Call from'} ${name}`;
    const number = party && party.address && party.address !== name ? party.address : null;
    this.state.textContent = [call.answered_at ? 'Answered' : 'Ringing', call.ended_at ? 'ended on the phone' : null, number].filter(Boolean).join(' · ')
      + ` · since ${formatDateTime(call.occurred_at).split(' ').pop()}`;
    // What someone else saved shows, unless this person is typing in that very field.
    if (first || (!this.unsaved.has('title') && document.activeElement !== this.title)) this.title.value = call.subject || '';
    if (first || (!this.unsaved.has('description') && document.activeElement !== this.description)) this.description.value = call.description || '';
    this.relatedTo.set(this.related());
  }

  /** The client's last entries, or the clients and connections the number may belong to. */
  async loadContext() {
    const call = this.call;
    if (call.client_id) {
      try {
        const { data } = await api('GET', `/v1/communications?client_id=${encodeURIComponent(call.client_id)}&limit=4`);
        const recent = data.items.filter((entry) => entry.id !== call.id).slice(0, 3);
        this.recent.replaceChildren(
          ...recent.map((entry) => el('li', {}, `${formatDateTime(entry.occurred_at)} · ${typeLabels[entry.type] || entry.type}`,
            entry.subject || entry.description ? ` · ${entry.subject || entry.description}` : '')),
          el('li', { class: 'open-client' }, el('a', { href: `/clients/${encodeURIComponent(call.client_id)}` }, `Open ${call.client_name || 'the client'}`)));
        this.recent.hidden = false;
      } catch { /* the pop-up works without it */ }
    }
    this.showCandidates();
  }

  /** The clients and connections the number belongs to, when it is shared (the call lists each as a caller). */
  showCandidates() {
    const candidates = this.parties();
    if (candidates.length < 2) return;
    this.candidates.replaceChildren(...candidates.map((p) => el('li', {},
      p.kind === 'client' ? el('a', { href: `/clients/${encodeURIComponent(p.id)}` }, p.name || p.id) : `${p.name || p.id} (connection)`)));
    this.candidates.hidden = false;
    this.candidatesNote.hidden = false;
  }

  /** Queues `fields` to be sent after what is already on its way. */
  save(fields) {
    if (!Object.keys(fields).length) return this.queue;
    this.queue = this.queue.then(() => this.send(fields)).catch((error) => { this.saved.textContent = `Not saved: ${error.message}`; });
    return this.queue;
  }

  /** Sends `fields` with the version it changes; a newer version (another tab) is read and the change sent again. */
  async send(fields, retried = false) {
    this.saved.textContent = 'Saving…';
    try {
      const { data } = await api('PATCH', `/v1/communications/${this.call.id}`, { body: fields, headers: { 'If-Match': `"${this.version}"` } });
      this.version = data.version;
      this.call = { ...this.call, ...data };
      // Saved, unless typed again since.
      if (fields.title === this.title.value) this.unsaved.delete('title');
      if (fields.description === this.description.value) this.unsaved.delete('description');
      this.saved.textContent = 'Saved';
    } catch (error) {
      if (error instanceof APIError && error.status === 412 && !retried) {
        const { data } = await api('GET', `/v1/communications/${this.call.id}`);
        this.version = data.version;
        return this.send(fields, true);
      }
      this.saved.textContent = error instanceof APIError && error.status === 409 ? 'This call is closed: nothing more can change.' : `Not saved: ${error.message}`;
    }
  }

  async end() {
    await this.save(this.typed());
    try {
      await api('POST', `/v1/calls/${this.call.id}/end`);
      this.element.remove();
      cards.delete(this.call.id);
      announce('Call ended');
    } catch (error) {
      if (error instanceof APIError && error.status === 409) {
        this.element.remove();
        cards.delete(this.call.id);
      } else {
        this.saved.textContent = `Not ended: ${error.message}`;
      }
    }
  }
}
