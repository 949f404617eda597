/** Robust statistics for the outlier rule. */

export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation around `median`. */
export function madOf(values: readonly number[], median = medianOf(values)): number {
  return medianOf(values.map((v) => Math.abs(v - median)));
}
