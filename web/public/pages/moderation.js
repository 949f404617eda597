// Moderation queue (moderators): open flags with their evidence — the GPS trace plotted,
// speed and heart rate charted — confirm or dismiss with a note, new flags arriving live.
import { api } from '../lib/api.js';
import { h, render, svg } from '../lib/dom.js';
import { paceMinPerKm, projectRoute, seriesPoints, speedSeries } from '../lib/plot.js';

const PAGE = 20;

export function mount(main, ctx) {
  if (!ctx.session.is('moderator') && !ctx.session.is('admin')) {
    render(
      main,
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Moderation'),
        h('p', {}, 'Moderators only: sign in as a moderator.'),
      ),
    );
    return;
  }
  let status = 'open';
  let cursor = null;
  let seen = new Set();
  const queue = h('div', { id: 'flags', 'aria-live': 'polite' });
  const more = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true, onclick: () => loadPage(false) },
    'Load more',
  );
  const tabs = h(
    'label',
    { for: 'flag-status' },
    'Status ',
    h(
      'select',
      {
        id: 'flag-status',
        onchange: (e) => {
          status = e.target.value;
          loadPage(true);
        },
      },
      ['open', 'confirmed', 'dismissed'].map((s) => h('option', { value: s }, s)),
    ),
  );
  const counter = h('span', { class: 'muted', id: 'new-flags' });
  render(main, h('section', { class: 'card' }, h('h2', {}, 'Moderation queue'), tabs, ' ', counter), queue, more);

  async function loadPage(reset) {
    if (reset) {
      cursor = null;
      render(queue);
    }
    try {
      const page = await api(
        `/v1/moderation/flags?status=${status}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (reset) seen = new Set();
      for (const f of page.flags) {
        if (seen.has(f.id)) continue;
        seen.add(f.id);
        queue.append(flagCard(f, false));
      }
      if (queue.children.length === 0) queue.append(h('p', { class: 'card empty' }, `No ${status} flags.`));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (err) {
      ctx.toast(err.message);
    }
  }

  /** New flags (pushed by realtime): fetch the queue's head and add what we have not shown. */
  async function refreshHead() {
    if (status !== 'open') return;
    const page = await api(`/v1/moderation/flags?status=open&limit=${PAGE}`).catch(() => ({ flags: [] }));
    const fresh = page.flags.filter((f) => !seen.has(f.id));
    queue.querySelector('.empty')?.remove();
    for (const f of fresh) {
      seen.add(f.id);
      queue.append(flagCard(f, true));
    }
    if (fresh.length > 0) counter.textContent = `${fresh.length} new flag(s) just arrived`;
  }

  function flagCard(f, isNew) {
    const note = h('textarea', { id: `note-${f.id}`, rows: 2, cols: 50 });
    const evidence = h('div', { class: 'evidence' });
    const decide = async (decision, el) => {
      try {
        await api(`/v1/moderation/flags/${encodeURIComponent(f.id)}/decision`, {
          method: 'POST',
          body: { decision, ...(note.value.trim() ? { note: note.value.trim() } : {}) },
        });
        ctx.toast(
          decision === 'confirm'
            ? `Confirmed: ${f.userId}'s points for this workout are revoked.`
            : `Dismissed: held points released.`,
        );
        el.remove();
      } catch (err) {
        ctx.toast(err.message);
      }
    };
    const facts = Object.entries(f.evidence ?? {}).filter(([k]) => k !== 'summary');
    const card = h(
      'article',
      { class: `card flag${isNew ? ' new' : ''}`, 'data-flag': f.id, 'aria-label': `Flag ${f.rule} on ${f.userId}` },
      h('h3', {}, h('span', { class: `sev ${f.severity}` }, f.severity), ` ${f.rule} · ${f.userId}`),
      h('p', {}, f.evidence?.summary ?? ''),
      h(
        'p',
        { class: 'muted' },
        `event ${f.eventId} · ${f.heldPoints} points held · ${new Date(f.createdAt).toLocaleString()}${f.decidedBy ? ` · ${f.status} by ${f.decidedBy}` : ''}${f.note ? ` · “${f.note}”` : ''}`,
      ),
      facts.length > 0
        ? h(
            'table',
            {},
            h(
              'tbody',
              {},
              facts.map(([k, v]) =>
                h('tr', {}, h('th', {}, k), h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))),
              ),
            ),
          )
        : null,
      evidence,
      f.status === 'open'
        ? h(
            'div',
            { class: 'controls' },
            h('label', { for: `note-${f.id}` }, 'Note', note),
            h('button', { type: 'button', class: 'danger', onclick: () => decide('confirm', card) }, 'Confirm cheat'),
            h('button', { type: 'button', class: 'secondary', onclick: () => decide('dismiss', card) }, 'Dismiss'),
          )
        : null,
    );
    loadWorkout(f.eventId, evidence);
    return card;
  }

  const offFlag = ctx.live.on('flag:new', () => refreshHead());
  // Without realtime, look for new flags now and then.
  const poll = setInterval(() => {
    if (!ctx.live.connected) refreshHead();
  }, 5000);
  loadPage(true);
  return () => {
    offFlag();
    clearInterval(poll);
  };
}

/** The flagged workout as stored: its route plotted and its speed and heart rate charted. */
async function loadWorkout(eventId, box) {
  let event;
  try {
    event = await api(`/v1/console/events/${encodeURIComponent(eventId)}`);
  } catch (err) {
    render(box, h('p', { class: 'muted' }, `Workout not available: ${err.message}`));
    return;
  }
  const w = event.workout ?? {};
  const W = 260;
  const H = 180;
  const parts = [];
  if (w.route?.length > 1) {
    const pts = projectRoute(w.route, W, H);
    parts.push(
      h(
        'figure',
        {},
        svg(
          'svg',
          { width: W, height: H, role: 'img', 'aria-label': `GPS trace of ${w.route.length} points` },
          svg('polyline', {
            points: pts.map((p) => p.join(',')).join(' '),
            fill: 'none',
            stroke: '#0b63ce',
            'stroke-width': 2,
          }),
          svg('circle', { cx: pts[0][0], cy: pts[0][1], r: 4, fill: '#1a7f37' }),
          svg('circle', { cx: pts[pts.length - 1][0], cy: pts[pts.length - 1][1], r: 4, fill: '#c62828' }),
        ),
        h('figcaption', { class: 'muted' }, 'GPS trace (green start, red end)'),
      ),
    );
    const speeds = speedSeries(w.route);
    const scaleTop = Math.max(...speeds.map((s) => s.speed), 1) * 1.25;
    const avgSpeed = w.distanceM && w.durationSec ? w.distanceM / w.durationSec : null;
    const avgY = avgSpeed ? H - 4 - (Math.min(avgSpeed, scaleTop) / scaleTop) * (H - 8) : 0;
    parts.push(
      h(
        'figure',
        {},
        svg(
          'svg',
          { width: W, height: H, role: 'img', 'aria-label': 'Speed along the route' },
          svg('polyline', {
            points: seriesPoints(speeds, 'speed', W, H, scaleTop),
            fill: 'none',
            stroke: '#c77700',
            'stroke-width': 1.5,
          }),
          // The reported average, dashed: a trace far from it does not back the claim.
          avgSpeed
            ? svg('line', { x1: 4, x2: W - 4, y1: avgY, y2: avgY, stroke: '#10243e', 'stroke-dasharray': '4 3' })
            : null,
        ),
        h(
          'figcaption',
          { class: 'muted' },
          `Speed per stretch (m/s, top of the box ${scaleTop.toFixed(1)})` +
            (avgSpeed
              ? ` · dashed: reported average ${avgSpeed.toFixed(2)} m/s (${paceMinPerKm(avgSpeed).toFixed(1)} min/km)`
              : ''),
        ),
      ),
    );
  }
  if (w.avgHeartRate || w.maxHeartRate) parts.push(heartRateChart(w, W));
  parts.push(
    h(
      'p',
      { class: 'muted' },
      `${w.activity}, ${Math.round((w.durationSec ?? 0) / 60)} min${w.distanceM !== undefined ? `, ${(w.distanceM / 1000).toFixed(2)} km reported` : ''}${w.calories !== undefined ? `, ${w.calories} kcal` : ''}`,
    ),
  );
  render(box, parts);
}

/** The event carries average and maximum heart rate only: two bars on a 40–220 bpm scale. */
function heartRateChart(w, width) {
  const H = 80;
  const x = (bpm) => ((bpm - 40) / 180) * (width - 20);
  const bar = (y, bpm, colour, label) => [
    svg('rect', { x: 10, y, width: Math.max(1, x(bpm)), height: 18, fill: colour }),
    svg('text', { x: 14 + x(bpm), y: y + 14, 'font-size': 12 }, `${label} ${bpm}`),
  ];
  return h(
    'figure',
    {},
    svg(
      'svg',
      { width, height: H, role: 'img', 'aria-label': `Heart rate: average ${w.avgHeartRate}, max ${w.maxHeartRate}` },
      w.avgHeartRate ? bar(12, w.avgHeartRate, '#d9534f', 'avg') : null,
      w.maxHeartRate ? bar(42, w.maxHeartRate, '#8b1a1a', 'max') : null,
    ),
    h('figcaption', { class: 'muted' }, 'Heart rate (bpm, 40–220)'),
  );
}
