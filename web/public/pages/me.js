// Me: totals, today against the daily cap, streak, achievements with tiers and progress to
// the next tier, and my feed with infinite scroll (the API's opaque cursor), new items live.
import { api } from '../lib/api.js';
import { h, render } from '../lib/dom.js';
import { describeFeedItem, formatDuration } from '../lib/format.js';

const PAGE = 20;

export function mount(main, ctx) {
  const me = ctx.session.current.sub;
  const statsBox = h(
    'section',
    { class: 'card', 'aria-labelledby': 'stats-title' },
    h('h2', { id: 'stats-title' }, 'My stats'),
  );
  const achBox = h(
    'section',
    { class: 'card', 'aria-labelledby': 'ach-title' },
    h('h2', { id: 'ach-title' }, 'Achievements'),
  );
  const feedList = h('ul', { class: 'feed', id: 'feed', 'aria-live': 'polite' });
  const sentinel = h('p', { class: 'muted', id: 'feed-end' }, 'Loading…');
  render(
    main,
    statsBox,
    achBox,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'feed-title' },
      h('h2', { id: 'feed-title' }, 'My feed'),
      feedList,
      sentinel,
    ),
  );

  const stat = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'muted' }, label), h('b', {}, value));
  const bar = (share, label) =>
    h(
      'div',
      {
        class: 'bar',
        role: 'progressbar',
        'aria-label': label,
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': Math.round(share * 100),
      },
      h('span', { style: `width:${Math.round(share * 100)}%` }),
    );

  async function loadStats() {
    try {
      const s = await api(`/v1/users/${encodeURIComponent(me)}/stats`);
      const cap = s.today.points + s.today.remaining;
      render(
        statsBox,
        h('h2', { id: 'stats-title' }, `My stats · ${me}`),
        h(
          'div',
          { class: 'grid' },
          stat('Points (all time)', s.totals.points),
          stat('Workouts', s.totals.workouts),
          stat('Distance', `${(s.totals.distanceM / 1000).toFixed(1)} km`),
          stat('Time', formatDuration(s.totals.durationSec)),
          stat('Calories', Math.round(s.totals.calories)),
          stat('Streak', `${s.streak?.current ?? 0} d (best ${s.streak?.longest ?? 0})`),
        ),
        h(
          'p',
          {},
          `Today (${s.today.day}): ${s.today.points} of ${cap} points, ${s.today.remaining} left before the daily cap`,
        ),
        bar(cap > 0 ? s.today.points / cap : 0, 'Points today against the daily cap'),
      );
    } catch (err) {
      render(
        statsBox,
        h('h2', { id: 'stats-title' }, 'My stats'),
        h('p', {}, err.status === 404 ? 'No workouts yet.' : err.message),
      );
    }
  }

  async function loadAchievements() {
    try {
      const { achievements } = await api(`/v1/users/${encodeURIComponent(me)}/achievements`);
      render(
        achBox,
        h('h2', { id: 'ach-title' }, 'Achievements'),
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h('tr', {}, h('th', {}, 'Achievement'), h('th', {}, 'Tier'), h('th', {}, 'Progress to the next tier')),
          ),
          h(
            'tbody',
            {},
            achievements.map((a) =>
              h(
                'tr',
                {},
                h('td', {}, h('b', {}, a.name), h('div', { class: 'muted' }, a.description)),
                h(
                  'td',
                  {},
                  a.tier ? h('span', { class: `tier ${a.tier}` }, a.tier) : h('span', { class: 'muted' }, 'none yet'),
                ),
                h(
                  'td',
                  {},
                  a.next
                    ? [
                        bar(a.progress, `${a.name}: progress to ${a.next.tier}`),
                        h(
                          'span',
                          { class: 'muted' },
                          `${a.value ?? 0} / ${a.next.threshold} ${a.unit ?? ''} for ${a.next.tier}`,
                        ),
                      ]
                    : h('span', { class: 'muted' }, 'every tier unlocked'),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      render(achBox, h('h2', { id: 'ach-title' }, 'Achievements'), h('p', {}, err.message));
    }
  }

  const shown = new Set();
  const feedItem = (item) => {
    shown.add(item.id);
    return feedLine(item);
  };
  const feedLine = (item) =>
    h(
      'li',
      { 'data-id': item.id },
      h('b', {}, item.actorId),
      ' ',
      describeFeedItem(item),
      h('div', { class: 'muted' }, new Date(item.createdAt).toLocaleString()),
    );

  // Infinite scroll: the next page loads when the end of the list comes into view.
  let cursor;
  let done = false;
  let loading = false;
  async function loadMore() {
    if (loading || done) return;
    loading = true;
    try {
      const page = await api(`/v1/feed?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      // An item pushed live (feed:item) before this page arrived is already shown.
      feedList.append(...page.items.filter((i) => !shown.has(i.id)).map(feedItem));
      cursor = page.nextCursor;
      done = !cursor;
      sentinel.textContent = done
        ? feedList.children.length === 0
          ? 'Nothing in your feed yet: follow someone.'
          : 'The end.'
        : 'Loading more…';
    } catch (err) {
      sentinel.textContent = err.message;
      done = true;
    } finally {
      loading = false;
    }
    // A short first page may leave the sentinel visible without any further scroll event.
    if (!done && sentinel.getBoundingClientRect().top < window.innerHeight) loadMore();
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  });
  observer.observe(sentinel);

  const offFeed = ctx.live.on('feed:item', (item) => {
    if (item?.id && !shown.has(item.id)) feedList.prepend(feedItem(item));
  });
  const offPoints = ctx.live.on('points:awarded', () => loadStats());
  const offAch = ctx.live.on('achievement:unlocked', (a) => {
    ctx.toast(`Achievement unlocked: ${a?.name ?? a?.achievementId ?? ''} ${a?.tier ?? ''}`);
    loadAchievements();
  });

  loadStats();
  loadAchievements();
  return () => {
    observer.disconnect();
    offFeed();
    offPoints();
    offAch();
  };
}
