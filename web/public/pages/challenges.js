// Challenges: the known challenges with their counts, join (joined, or waitlisted at a
// position), leave, and each challenge's live board (scope challenge:<id>).
// The list is GET /v1/challenges (open ones) plus the ids opened here (kept in localStorage),
// and the demo's challenge on an engine without the list endpoint. A reload keeps each
// challenge's card (its join status stays) and only refreshes its counts.
import { api } from '../lib/api.js';
import { h, render } from '../lib/dom.js';

const KNOWN_KEY = 'podium.challenges';

function knownIds() {
  try {
    return JSON.parse(localStorage.getItem(KNOWN_KEY) ?? '[]');
  } catch {
    return [];
  }
}

function remember(id) {
  const ids = knownIds().filter((x) => x !== id);
  localStorage.setItem(KNOWN_KEY, JSON.stringify([id, ...ids].slice(0, 20)));
}

export function mount(main, _ctx) {
  const list = h('div', { id: 'challenges', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  const idInput = h('input', { id: 'open-challenge', size: 20 });
  render(
    main,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Challenges'),
      h(
        'form',
        {
          class: 'controls',
          onsubmit: (e) => {
            e.preventDefault();
            const id = idInput.value.trim();
            if (id) {
              remember(id);
              load();
            }
          },
        },
        h('label', { for: 'open-challenge' }, 'Open a challenge by id', idInput),
        h('button', { type: 'submit', class: 'secondary' }, 'Open'),
      ),
    ),
    list,
  );

  async function ids() {
    try {
      const res = await api('/v1/challenges');
      if (Array.isArray(res?.challenges)) return [...new Set([...res.challenges.map((c) => c.id), ...knownIds()])];
    } catch {
      // No list endpoint on this engine: fall back to the ids we know.
    }
    const demo = await api('/demo/status').catch(() => ({}));
    return [...new Set([...knownIds(), ...(demo.challenges ?? [])])];
  }

  // One card per challenge for the page's life: a click on it is never lost to a re-render.
  const cardsById = new Map();
  let loads = 0;

  async function load() {
    const mine = ++loads;
    const all = await ids();
    const cards = await Promise.all(
      all.map((id) =>
        api(`/v1/challenges/${encodeURIComponent(id)}`).then(
          (c) => {
            const known = cardsById.get(id);
            if (known) {
              known.refresh(c);
              return known.node;
            }
            const made = card(c);
            cardsById.set(id, made);
            return made.node;
          },
          (err) => missing(id, err),
        ),
      ),
    );
    if (mine !== loads) return; // a later load renders
    render(list, cards.length > 0 ? cards : h('p', { class: 'card' }, 'No challenges known yet: open one by id.'));
  }

  function missing(id, err) {
    return h(
      'section',
      { class: 'card' },
      h('h3', {}, id),
      h(
        'p',
        { class: 'muted' },
        err.status === 404 ? 'No such challenge (or no challenges API on this engine).' : err.message,
      ),
    );
  }

  function card(c) {
    const status = h('p', { 'aria-live': 'polite', class: 'join-status' });
    const act = async (method, path, describe) => {
      try {
        const res = await api(path, { method });
        status.textContent = describe(res);
        const fresh = await api(`/v1/challenges/${encodeURIComponent(c.id)}`);
        counts.textContent = countsText(fresh);
      } catch (err) {
        status.textContent = err.code === 'capacity_full' ? 'Full: the waitlist is closed too.' : err.message;
      }
    };
    const countsText = (x) => `${x.participants} / ${x.capacity} joined · ${x.waitlist} waiting · ${x.status}`;
    const counts = h('p', {}, countsText(c));
    const refresh = (fresh) => {
      counts.textContent = countsText(fresh);
    };
    const board = c.board ?? `${c.metric}:alltime:challenge:${c.id}`;
    const [metric] = board.split(':');
    const node = h(
      'section',
      { class: 'card', 'data-challenge': c.id },
      h('h3', {}, `${c.name} `, h('span', { class: 'muted' }, `(${c.id})`)),
      h(
        'p',
        { class: 'muted' },
        `${c.metric}${c.region ? ` · ${c.region}` : ''} · ${new Date(c.startsAt).toLocaleString()} → ${new Date(c.endsAt).toLocaleString()}`,
      ),
      counts,
      h(
        'div',
        { class: 'controls' },
        h(
          'button',
          {
            type: 'button',
            onclick: () =>
              act('POST', `/v1/challenges/${encodeURIComponent(c.id)}/join`, (r) =>
                r.status === 'joined' ? 'You are in.' : `Waitlisted at position ${r.position ?? '?'}.`,
              ),
          },
          'Join',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () =>
              act('DELETE', `/v1/challenges/${encodeURIComponent(c.id)}/participants/me`, () => 'You left.'),
          },
          'Leave',
        ),
        h(
          'a',
          { href: `#/boards?metric=${metric}&window=alltime&scope=challenge:${encodeURIComponent(c.id)}` },
          'Live board',
        ),
      ),
      status,
    );
    return { node, refresh };
  }

  load();
}
