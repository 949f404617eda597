// The console's HTTP client: bearer token from the session, the API's error body surfaced as an Error.
import { decodeJwt } from './format.js';

const STORAGE_KEY = 'podium.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Who is signed in: { token, sub, roles } or null. Kept in localStorage across reloads. */
export const session = {
  current: null,
  load() {
    const token = localStorage.getItem(STORAGE_KEY);
    if (!token) return null;
    try {
      const claims = decodeJwt(token);
      if (claims.exp && claims.exp * 1000 < Date.now()) throw new Error('expired');
      this.current = { token, ...claims };
    } catch {
      localStorage.removeItem(STORAGE_KEY);
    }
    return this.current;
  },
  signIn(token) {
    this.current = { token, ...decodeJwt(token) };
    localStorage.setItem(STORAGE_KEY, token);
    return this.current;
  },
  signOut() {
    this.current = null;
    localStorage.removeItem(STORAGE_KEY);
  },
  is(role) {
    return Boolean(this.current?.roles.includes(role));
  },
};

export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (session.current) headers.authorization = `Bearer ${session.current.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    // An expired or revoked token: app.js signs out and shows the sign-in page.
    if (res.status === 401 && session.current) window.dispatchEvent(new Event('podium:unauthorized'));
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? 'http_error', err.message ?? `${method} ${path}: HTTP ${res.status}`);
  }
  return data;
}

/** Display names, fetched once per user (boards show ids; people read names). */
const names = new Map();
export function displayName(userId) {
  if (!names.has(userId)) {
    names.set(
      userId,
      api(`/v1/users/${encodeURIComponent(userId)}`)
        .then((p) => p.displayName || userId)
        .catch(() => userId),
    );
  }
  return names.get(userId);
}
