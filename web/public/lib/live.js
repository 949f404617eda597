// The socket.io connection (API.md "Sockets"). The client script is the server's own socket.io
// version, served by web.routes.ts; when realtime is off or the connection drops, `connected` is
// false and the pages poll over HTTP instead, so the console works either way.

const listeners = new Map();
let socket = null;
const subscriptions = new Map(); // JSON of the subscription → the subscription
let statusListener = () => {};

export const live = {
  connected: false,

  async connect(token, onStatus) {
    statusListener = onStatus ?? statusListener;
    this.disconnect();
    const io = await loadClient();
    if (!io) return setStatus(false, 'no socket client: polling');
    socket = io({ auth: { token }, transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      setStatus(true, 'live');
      for (const sub of subscriptions.values()) socket.emit('subscribe', sub);
    });
    socket.on('disconnect', () => setStatus(false, 'disconnected: polling'));
    socket.on('connect_error', (err) => setStatus(false, `realtime refused (${err.message}): polling`));
    socket.onAny((event, payload) => {
      for (const fn of listeners.get(event) ?? []) fn(payload);
    });
  },

  disconnect() {
    socket?.close();
    socket = null;
    setStatus(false, 'offline');
  },

  /** Listens to a server event; returns the function that stops listening. */
  on(event, fn) {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event).add(fn);
    return () => listeners.get(event).delete(fn);
  },

  /** Subscribes to `{board}` or `{challenge}`; resolves true when the server acknowledged it. */
  subscribe(sub) {
    subscriptions.set(JSON.stringify(sub), sub);
    if (!socket?.connected) return Promise.resolve(false);
    return new Promise((resolve) => {
      socket.timeout(3000).emit('subscribe', sub, (err, ack) => resolve(!err && !ack?.error));
    });
  },

  unsubscribe(sub) {
    subscriptions.delete(JSON.stringify(sub));
    if (socket?.connected) socket.emit('unsubscribe', sub);
  },
};

function setStatus(connected, text) {
  live.connected = connected;
  statusListener(connected, text);
}

let clientPromise = null;
function loadClient() {
  clientPromise ??= new Promise((resolve) => {
    if (window.io) return resolve(window.io);
    const script = document.createElement('script');
    script.src = '/vendor/socket.io/socket.io.min.js';
    script.onload = () => resolve(window.io ?? null);
    script.onerror = () => {
      clientPromise = null; // try again at the next sign-in: realtime may have started since
      resolve(null);
    };
    document.head.append(script);
  });
  return clientPromise;
}
