// Pure formatting and small helpers shared by the pages (unit-tested in web/test/).

/** A metric's score as people read it: km, h:mm, points, workouts. */
export function formatScore(metric, score) {
  if (score === null || score === undefined) return '–';
  switch (metric) {
    case 'distance':
      return `${(score / 1000).toFixed(1)} km`;
    case 'duration':
      return formatDuration(score);
    case 'workouts':
      return `${score} ${score === 1 ? 'workout' : 'workouts'}`;
    default:
      return `${score} pts`;
  }
}

/** Seconds as "1 h 05 min" or "42 min". */
export function formatDuration(sec) {
  const minutes = Math.round(sec / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}

/** Milliseconds left as "3 d 04:05:06" or "04:05:06". */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const hms = [Math.floor((total % 86400) / 3600), Math.floor((total % 3600) / 60), total % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return d > 0 ? `${d} d ${hms}` : hms;
}

/** The claims of a JWT (not verified: the server does that; the console only shows who you are). */
export function decodeJwt(token) {
  const parts = String(token).trim().split('.');
  if (parts.length !== 3) throw new Error('not a JWT: expected three dot-separated parts');
  const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
  const json = decodeURIComponent(
    Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')))
      .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .join(''),
  );
  const claims = JSON.parse(json);
  if (typeof claims.sub !== 'string') throw new Error('the token has no sub claim');
  return { sub: claims.sub, roles: Array.isArray(claims.roles) ? claims.roles : ['user'], exp: claims.exp };
}

/** One line describing a feed item. */
export function describeFeedItem(item) {
  const o = item.object ?? {};
  switch (item.verb) {
    case 'workout.completed': {
      const distance = o.distanceM ? ` ${(o.distanceM / 1000).toFixed(1)} km` : '';
      return `${o.activity ?? 'workout'}${distance} in ${formatDuration(o.durationSec ?? 0)} (+${o.points ?? 0} pts)`;
    }
    case 'achievement.unlocked':
      return `unlocked ${o.name ?? o.achievementId} (${o.tier})`;
    case 'record.achieved':
      return `new ${o.activity ?? ''} record: ${o.record} ${o.value}${o.unit ? ` ${o.unit}` : ''}`;
    case 'post.created':
      return o.text ?? '';
    case 'challenge.won':
      return `won ${o.name ?? o.challengeId} (#${o.rank ?? 1})`;
    default:
      return item.verb;
  }
}
