// Live leaderboards: metric × window × scope pickers, the top N updated over socket.io
// (HTTP polling when realtime is unavailable), rank moves animated, your own row pinned,
// a countdown to the period's reset, and closed periods read from their archive.
import { api, displayName } from '../lib/api.js';
import { periodEndUtc, previousPeriods, rankMovements } from '../lib/board.js';
import { h, render } from '../lib/dom.js';
import { formatCountdown, formatScore } from '../lib/format.js';

const METRICS = ['points', 'distance', 'duration', 'workouts'];
const WINDOWS = ['daily', 'weekly', 'monthly', 'alltime'];
const REGIONS = ['eu-west', 'us-east', 'ap-southeast'];
const TOP_N = 10;
const POLL_MS = 3000;
const PUSH_QUIET_MS = 10_000;

export function mount(main, ctx) {
  const me = ctx.session.current.sub;
  const state = {
    metric: ctx.params.get('metric') ?? 'points',
    window: ctx.params.get('window') ?? 'daily',
    scope: ctx.params.get('scope') ?? 'global',
    period: '', // '' = the current period
    currentPeriod: null,
    entries: [],
    lastPush: 0, // when the server last pushed this board
  };
  if (state.scope.startsWith('challenge:')) state.window = 'alltime';
  let subscription = null;
  let lastOwnRefresh = 0;

  const select = (id, label, options, value, onchange) =>
    h(
      'label',
      { for: id },
      label,
      h(
        'select',
        { id, onchange: (e) => onchange(e.target.value) },
        options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
      ),
    );

  const challengeInput = h('input', { id: 'challenge-id', size: 14, placeholder: 'challenge id' });
  const controls = h('div', { class: 'controls' });
  const heading = h('h2', { id: 'board-title' });
  const countdown = h('p', { class: 'muted', id: 'countdown' });
  const table = h('table', { 'aria-labelledby': 'board-title' });
  const pinned = h('div', { class: 'pinned', id: 'my-row', 'aria-live': 'polite' });
  render(
    main,
    h('section', { class: 'card' }, controls),
    h('section', { class: 'card' }, heading, countdown, table, pinned),
  );

  function drawControls() {
    const scopes = [
      ['global', 'Global'],
      ['friends', 'Friends'],
      ...REGIONS.map((r) => [`region:${r}`, `Region ${r}`]),
    ];
    if (state.scope.startsWith('challenge:')) scopes.push([state.scope, `Challenge ${state.scope.slice(10)}`]);
    const windows = state.scope.startsWith('challenge:') ? ['alltime'] : WINDOWS;
    const periods = state.currentPeriod
      ? [
          ['', `Current (${state.currentPeriod})`],
          ...previousPeriods(state.window, state.currentPeriod, 8).map((p) => [p, `Closed: ${p}`]),
        ]
      : [['', 'Current']];
    render(
      controls,
      select(
        'metric',
        'Metric',
        METRICS.map((m) => [m, m]),
        state.metric,
        (v) => change({ metric: v }),
      ),
      select(
        'window',
        'Window',
        windows.map((w) => [w, w]),
        state.window,
        (v) => change({ window: v, period: '' }),
      ),
      select('scope', 'Scope', scopes, state.scope, (v) => change({ scope: v, period: '' })),
      select('period', 'Period', periods, state.period, (v) => change({ period: v })),
      h(
        'form',
        {
          class: 'controls',
          onsubmit: (e) => {
            e.preventDefault();
            if (challengeInput.value.trim())
              change({ scope: `challenge:${challengeInput.value.trim()}`, window: 'alltime', period: '' });
          },
        },
        h('label', { for: 'challenge-id' }, 'Challenge board', challengeInput),
        h('button', { type: 'submit', class: 'secondary' }, 'Show'),
      ),
    );
  }

  function change(patch) {
    Object.assign(state, patch);
    if (state.scope.startsWith('challenge:')) state.window = 'alltime';
    state.entries = [];
    state.total = undefined;
    if (patch.window || patch.scope || patch.metric) state.currentPeriod = null;
    drawControls();
    resubscribe();
    load();
  }

  const boardId = () => `${state.metric}:${state.window}:${state.scope}`;
  const query = () => `scope=${encodeURIComponent(state.scope)}${state.period ? `&period=${state.period}` : ''}`;

  async function load() {
    try {
      const page = await api(`/v1/leaderboards/${state.metric}/${state.window}?${query()}&limit=${TOP_N}`);
      if (!state.period && state.currentPeriod !== page.period) {
        state.currentPeriod = page.period;
        drawControls();
      }
      show(page.entries, page.total);
      drawCountdown();
      loadOwnRow();
    } catch (err) {
      render(table, h('caption', {}, `Cannot load this board: ${err.message}`));
      render(pinned);
    }
  }

  async function loadOwnRow() {
    lastOwnRefresh = Date.now();
    try {
      const mine = await api(
        `/v1/leaderboards/${state.metric}/${state.window}/users/${encodeURIComponent(me)}?${query()}&around=0`,
      );
      render(
        pinned,
        mine.rank === null
          ? `You (${me}) are not on this board yet.`
          : h(
              'span',
              {},
              `You (${me}): rank #${mine.rank} of ${mine.total} · ${formatScore(state.metric, mine.score)}`,
            ),
      );
    } catch (err) {
      render(pinned, err.status === 404 ? `You (${me}) have no workouts yet.` : `Your rank: ${err.message}`);
    }
  }

  /** Draws the top, animating rows from where they were (FLIP: first, last, invert, play). */
  function show(entries, total) {
    const before = new Map(
      [...table.querySelectorAll('tr[data-user]')].map((tr) => [tr.dataset.user, tr.getBoundingClientRect().top]),
    );
    const moves = rankMovements(state.entries, entries);
    state.entries = entries;
    if (total !== undefined) state.total = total; // pushes carry the top only
    heading.textContent = `${boardId()}${state.period ? ` · closed period ${state.period}` : ''}${state.total !== undefined ? ` · ${state.total} ranked` : ''}`;
    const rows = entries.map((e) => {
      const move = moves.get(e.userId);
      const name = h('span', {}, e.userId);
      displayName(e.userId).then((n) => {
        if (n !== e.userId) name.textContent = `${n} (${e.userId})`;
      });
      return h(
        'tr',
        { 'data-user': e.userId, class: [move, e.userId === me ? 'me' : ''].filter(Boolean).join(' ') },
        h('td', { class: 'num' }, `#${e.rank}`),
        h(
          'td',
          { class: 'move', 'aria-label': move },
          move === 'up' ? '▲' : move === 'down' ? '▼' : move === 'new' ? '★' : '',
        ),
        h('td', {}, name),
        h('td', { class: 'num' }, formatScore(state.metric, e.score)),
      );
    });
    render(
      table,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { class: 'num' }, 'Rank'),
          h('th', {}, h('span', { class: 'muted' }, 'move')),
          h('th', {}, 'Athlete'),
          h('th', { class: 'num' }, 'Score'),
        ),
      ),
      h('tbody', {}, rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: 4 }, 'Nobody on this board yet.'))),
    );
    for (const tr of rows) {
      const old = before.get(tr.dataset.user);
      if (old === undefined) continue;
      const delta = old - tr.getBoundingClientRect().top;
      if (Math.abs(delta) < 1) continue;
      tr.style.transform = `translateY(${delta}px)`;
      requestAnimationFrame(() => {
        tr.classList.add('moved');
        tr.style.transform = '';
      });
    }
  }

  async function resubscribe() {
    if (subscription) ctx.live.unsubscribe(subscription);
    subscription = null;
    state.lastPush = 0;
    if (state.period || state.scope === 'friends') return; // closed and computed boards are not pushed
    subscription = { board: boardId() };
    await ctx.live.subscribe(subscription); // live.js subscribes again after each reconnect
  }

  const offUpdate = ctx.live.on('leaderboard:update', (msg) => {
    if (state.period || msg?.board !== boardId()) return;
    state.lastPush = Date.now();
    window.podiumPushes = (window.podiumPushes ?? 0) + 1; // lets the browser test tell push from polling
    if (state.currentPeriod && msg.period && msg.period !== state.currentPeriod) return load();
    show((msg.top ?? []).slice(0, TOP_N));
    refreshOwnRowSoon();
  });
  const offClosed = ctx.live.on('leaderboard:closed', (msg) => {
    if (!state.period && msg?.board === boardId()) load(); // a new period began
  });
  const offRank = ctx.live.on('rank:changed', () => {
    if (!state.period) refreshOwnRowSoon();
  });

  /** Own rank at most once a second, but always after the last change (a trailing refresh). */
  let ownRowTimer = null;
  function refreshOwnRowSoon() {
    if (ownRowTimer) return;
    ownRowTimer = setTimeout(
      () => {
        ownRowTimer = null;
        loadOwnRow();
      },
      Math.max(0, 1000 - (Date.now() - lastOwnRefresh)),
    );
  }

  // Polls when nothing is pushed: no realtime server, a dropped connection, or a board it does not push.
  const poll = setInterval(() => {
    if (!state.period && !(ctx.live.connected && Date.now() - state.lastPush < PUSH_QUIET_MS)) load();
  }, POLL_MS);
  const tick = setInterval(drawCountdown, 1000);
  function drawCountdown() {
    if (state.period) countdown.textContent = 'A closed period: final standings from the archive.';
    else if (state.window === 'alltime' || !state.currentPeriod) countdown.textContent = 'All time: never resets.';
    else
      countdown.textContent = `Period ${state.currentPeriod} resets in ${formatCountdown(periodEndUtc(state.window, state.currentPeriod) - Date.now())} (UTC)`;
  }

  drawControls();
  resubscribe();
  load();
  return () => {
    clearInterval(poll);
    clearInterval(tick);
    clearTimeout(ownRowTimer);
    offUpdate();
    offClosed();
    offRank();
    if (subscription) ctx.live.unsubscribe(subscription);
  };
}
