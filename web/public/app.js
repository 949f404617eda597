// The console's entry: session, navigation (hash routes), the live connection, the pages.
import { session } from './lib/api.js';
import { h, render } from './lib/dom.js';
import { live } from './lib/live.js';
import * as boards from './pages/boards.js';
import * as challenges from './pages/challenges.js';
import * as me from './pages/me.js';
import * as moderation from './pages/moderation.js';
import * as signin from './pages/signin.js';

const PAGES = { boards, me, challenges, moderation, signin };
const main = document.getElementById('main');
let unmount = () => {};

/** Shows a short message (errors and confirmations) and reads it to screen readers. */
export function toast(text) {
  const p = h('p', {}, text);
  document.getElementById('toast').append(p);
  setTimeout(() => p.remove(), 5000);
}

function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { page: path || 'boards', params: new URLSearchParams(query ?? '') };
}

function showPage() {
  let { page, params } = parseHash();
  if (!session.current && page !== 'signin') page = 'signin';
  if (!PAGES[page]) page = 'boards';
  unmount();
  render(main);
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const ctx = { session, live, toast, params, onSessionChanged, navigate: (hash) => (location.hash = hash) };
  unmount = PAGES[page].mount(main, ctx) ?? (() => {});
}

/** Header and live connection for whoever is signed in (called again after sign-in and sign-out). */
export function onSessionChanged() {
  const who = document.getElementById('who');
  const signOut = document.getElementById('sign-out');
  const mod = document.querySelector('nav a[data-page="moderation"]');
  if (session.current) {
    who.textContent = `${session.current.sub} (${session.current.roles.join(', ')})`;
    signOut.hidden = false;
    mod.hidden = !session.is('moderator') && !session.is('admin');
    live.connect(session.current.token, (connected, text) => {
      const el = document.getElementById('live-status');
      el.textContent = text;
      el.classList.toggle('live', connected);
    });
  } else {
    who.textContent = '';
    signOut.hidden = true;
    mod.hidden = true;
    live.disconnect();
  }
  // Signed in on the sign-in page: on to the boards; signed out elsewhere: to sign-in.
  // replaceState changes the address without a hashchange (and without a history entry).
  const onSignIn = parseHash().page === 'signin';
  const target = session.current && onSignIn ? '#/boards' : !session.current && !onSignIn ? '#/signin' : null;
  if (target) history.replaceState(null, '', target);
  showPage();
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut();
  onSessionChanged();
});
window.addEventListener('hashchange', () => {
  showPage();
  main.focus(); // keyboard and screen-reader users start on the new page's content
});
window.addEventListener('podium:unauthorized', () => {
  session.signOut();
  toast('Your session ended: sign in again.');
  onSessionChanged();
});
session.load();
onSessionChanged();
