// Sign-in: in demo mode pick a demo athlete or the moderator (the engine mints a dev token);
// otherwise paste a JWT issued by the platform's identity service.
import { api } from '../lib/api.js';
import { h, render } from '../lib/dom.js';

export function mount(main, ctx) {
  const demoBox = h('section', { class: 'card', 'aria-labelledby': 'demo-title' }, h('p', {}, 'Loading…'));
  const tokenInput = h('textarea', { id: 'jwt', rows: 4, cols: 60, placeholder: 'eyJhbGciOiJIUzI1NiIs…' });
  const pasteForm = h(
    'form',
    {
      class: 'card',
      onsubmit: (e) => {
        e.preventDefault();
        signIn(tokenInput.value.trim());
      },
    },
    h('h2', {}, 'Sign in with a token'),
    h('label', { for: 'jwt' }, 'JWT (HS256, claims sub and roles)'),
    h('div', {}, tokenInput),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  render(main, h('h2', {}, 'Sign in'), demoBox, pasteForm);

  function signIn(token) {
    try {
      ctx.session.signIn(token);
    } catch (err) {
      ctx.toast(`Cannot use this token: ${err.message}`);
      return;
    }
    ctx.onSessionChanged(); // goes on to the boards
  }

  async function demoToken(sub, role) {
    try {
      const { token } = await api(`/demo/token?sub=${encodeURIComponent(sub)}&role=${role}`);
      signIn(token);
    } catch (err) {
      ctx.toast(err.message);
    }
  }

  api('/demo/status')
    .then((status) => {
      if (!status.demo) {
        render(
          demoBox,
          h('h2', { id: 'demo-title' }, 'Demo users'),
          h(
            'p',
            { class: 'muted' },
            'Demo mode is off on this engine: sign in with a token (npm run cli -- token --sub …).',
          ),
        );
        return;
      }
      const anyId = h('input', { id: 'any-user', value: 'athlete-001', size: 16 });
      render(
        demoBox,
        h('h2', { id: 'demo-title' }, 'Demo users'),
        h('p', { class: 'muted' }, `${status.athletes} simulated athletes. Pick one, or the moderator.`),
        h(
          'div',
          { class: 'users' },
          status.users.map((u) =>
            h(
              'button',
              { type: 'button', class: 'secondary', 'data-user': u.id, onclick: () => demoToken(u.id, 'user') },
              `${u.displayName} · ${u.region}${u.cheat ? ` · cheats (${u.cheat})` : ''}`,
            ),
          ),
        ),
        h(
          'p',
          {},
          status.moderators.map((m) =>
            h(
              'button',
              { type: 'button', 'data-user': m, onclick: () => demoToken(m, 'moderator') },
              `Moderator (${m})`,
            ),
          ),
        ),
        h(
          'form',
          {
            onsubmit: (e) => {
              e.preventDefault();
              demoToken(anyId.value.trim(), 'user');
            },
          },
          h('label', { for: 'any-user' }, 'Any user id '),
          anyId,
          ' ',
          h('button', { type: 'submit', class: 'secondary' }, 'Sign in as this user'),
        ),
      );
    })
    .catch((err) => render(demoBox, h('p', {}, `Cannot reach the engine: ${err.message}`)));
}
