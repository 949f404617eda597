// Pure geometry for the moderation evidence: a GPS trace projected into an SVG box, and the
// speed of each stretch of the trace (what a pace chart shows).

const EARTH_M = 6_371_000;
const rad = (d) => (d * Math.PI) / 180;

export function haversineM(a, b) {
  const dLat = rad(b[0] - a[0]);
  const dLng = rad(b[1] - a[1]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.sqrt(h));
}

/**
 * Route points [lat, lng, sec] as [x, y] inside width × height (with `pad`), north up,
 * one scale for both axes so shapes are not distorted (longitude shrunk by cos(latitude)).
 */
export function projectRoute(route, width, height, pad = 10) {
  if (!route || route.length === 0) return [];
  const midLat = route.reduce((s, p) => s + p[0], 0) / route.length;
  const k = Math.cos(rad(midLat));
  const xs = route.map((p) => p[1] * k);
  const ys = route.map((p) => p[0]);
  const minX = Math.min(...xs);
  const maxY = Math.max(...ys);
  const spanX = Math.max(...xs) - minX || 1e-9;
  const spanY = maxY - Math.min(...ys) || 1e-9;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  return route.map((_, i) => [round(pad + (xs[i] - minX) * scale), round(pad + (maxY - ys[i]) * scale)]);
}

/** Speed (m/s) of each stretch between consecutive points, at the stretch's end second. */
export function speedSeries(route) {
  const out = [];
  for (let i = 1; i < (route?.length ?? 0); i++) {
    const dt = route[i][2] - route[i - 1][2];
    if (dt <= 0) continue;
    out.push({ t: route[i][2], speed: haversineM(route[i - 1], route[i]) / dt });
  }
  return out;
}

/** Minutes per km from m/s (what runners call pace); null when standing still. */
export function paceMinPerKm(speed) {
  return speed > 0 ? 1000 / speed / 60 : null;
}

/** An SVG polyline `points` attribute for values over time, scaled into width × height. */
export function seriesPoints(series, key, width, height, maxValue, pad = 4) {
  if (series.length === 0) return '';
  const tMax = series[series.length - 1].t || 1;
  const top = maxValue || Math.max(...series.map((s) => s[key])) || 1;
  return series
    .map(
      (s) =>
        `${round(pad + (s.t / tMax) * (width - 2 * pad))},${round(height - pad - (Math.min(s[key], top) / top) * (height - 2 * pad))}`,
    )
    .join(' ');
}

function round(x) {
  return Math.round(x * 10) / 10;
}
