// What the page's scripts share: calling the API with the session cookie, building elements without ever
// inserting text as HTML, and writing dates in the organisation's time zone.

/** An API answer that was not 2xx: its status and the problem's `detail`. */
export class APIError extends Error {
  constructor(status, detail) {
    super(detail || `the server answered ${status}`);
    this.status = status;
  }
}

/** Calls the API (same origin, with the session cookie); JSON in, JSON out (null for an empty answer). */
export async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    if (response.status === 401) signedOut();
    throw new APIError(response.status, data && data.detail);
  }
  return { data, etag: response.headers.get('ETag') };
}

/** The session ended (token expired, signed out in another tab): say so instead of failing silently. */
function signedOut() {
  announce('Your Commlog session has ended. Open Commlog again from your practice software.');
}

/** Builds an element: attributes (`on…` functions become listeners), then children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Says something to screen readers (and shows it nowhere else). */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "3 Dec 2026 17:09" in the organisation's time zone, as the server writes it. */
export function formatDateTime(iso) {
  if (!iso) return '';
  const zone = document.body.dataset.timeZone || 'UTC';
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return `${Number(parts.day)} ${months[Number(parts.month) - 1]} ${parts.year} ${parts.hour}:${parts.minute}`;
}

/** Runs `action` once `wait` ms have passed without another call. */
export function debounce(action, wait) {
  let timer;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => action(...args), wait);
  };
  debounced.flush = (...args) => {
    clearTimeout(timer);
    return action(...args);
  };
  return debounced;
}

/** The signed-in staff member, as the page was drawn for them. */
export const me = {
  get id() { return document.body.dataset.staffId; },
  get roles() { return (document.body.dataset.roles || '').split(',').filter(Boolean); },
  get seesEverything() { return this.roles.includes('manager') || this.roles.includes('admin'); },
};

/** A path segment of an id. */
export const segment = (id) => encodeURIComponent(id);

export const typeLabels = { email: 'Email', sms: 'SMS', phone: 'Phone', mail: 'Mail', note: 'Note' };
export const directionLabels = { inbound: 'In', outbound: 'Out' };
