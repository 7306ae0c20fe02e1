import './health.css';

/** A compliance rule's status as a word, its colour and a mark (so colour is never the only cue). */
const STATUS: Record<string, { word: string; mark: string }> = {
  pass: { word: 'pass', mark: '✓' },
  fail: { word: 'fail', mark: '✗' },
  error: { word: 'error', mark: '!' },
  not_applicable: { word: 'not applicable', mark: '–' },
};

/** A compliance status (`pass`, `fail`, `error`, `not_applicable`; null: not reported yet). */
export function ComplianceStatusBadge({ status }: { status: string | null }) {
  const s = status === null ? { word: 'not reported', mark: '?' } : STATUS[status];
  return (
    <span className={`badge cstatus-${status ?? 'none'}`}>
      <span aria-hidden="true">{s?.mark ?? '?'} </span>
      {s?.word ?? status}
    </span>
  );
}

/** A compliance rule's severity (`low` … `critical`; null for a rule no pack has any more). */
export function RuleSeverityBadge({ severity }: { severity: string | null }) {
  return <span className={`badge csev-${severity ?? 'none'}`}>{severity ?? 'unknown'}</span>;
}

/** A fraction 0..1 as a whole percentage (`87 %`); `—` for null. */
export function scoreText(score: number | null | undefined): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return '—';
  const p = score * 100;
  let shown = String(Math.round(p));
  // 99.6 % is not "100 %", nor 0.4 % "0 %": the edges keep a decimal.
  if (shown === '100' && p < 100) shown = (Math.floor(p * 10) / 10).toFixed(1);
  if (shown === '0' && p > 0) shown = Math.max(0.1, Math.ceil(p * 10) / 10).toFixed(1);
  return `${shown} %`;
}

/** A status change as two badges, `from → to` (read aloud as "from to"). */
export function StatusChange({ from, to }: { from: string; to: string }) {
  return (
    <>
      <ComplianceStatusBadge status={from} /> <span aria-hidden="true">→</span>
      <span className="visually-hidden">to</span> <ComplianceStatusBadge status={to} />
    </>
  );
}
