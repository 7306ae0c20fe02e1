/** One sample of a series: seconds since the epoch and its value. */
export interface Point {
  t: number;
  v: number;
}

/**
 * Prometheus' `predict_linear`: the least-squares line through the points, evaluated `ahead`
 * seconds after `at` (seconds). Undefined with fewer than two points or when they all share one
 * time. As Prometheus does, times are taken relative to `at` so that large epochs keep their
 * precision.
 */
export function predictLinear(
  points: readonly Point[],
  at: number,
  ahead: number,
): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  let sumX = 0;
  let sumY = 0;
  let sumXY = 0;
  let sumX2 = 0;
  for (const p of points) {
    const x = p.t - at;
    sumX += x;
    sumY += p.v;
    sumXY += x * p.v;
    sumX2 += x * x;
  }
  const cov = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  if (varX === 0) return undefined;
  const slope = cov / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return intercept + slope * ahead;
}

/**
 * Whether a file system is predicted full within `hours`: the linear fit of its used bytes,
 * `hours` ahead of `at`, reaches its size. Returns the prediction and the verdict.
 */
export function diskForecast(
  used: readonly Point[],
  totalBytes: number,
  at: number,
  hours: number,
): { predictedBytes: number; full: boolean } | undefined {
  const predicted = predictLinear(used, at, hours * 3600);
  if (predicted === undefined) return undefined;
  return { predictedBytes: predicted, full: predicted >= totalBytes };
}
