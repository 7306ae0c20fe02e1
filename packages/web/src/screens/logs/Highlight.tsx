import type { ReactNode } from 'react';

/**
 * A text with the matches of `pattern` marked (`<mark>`). Built from React nodes, so a message
 * holding markup shows as the text it is.
 */
export function Highlight({ text, pattern }: { text: string; pattern: RegExp | null }) {
  if (!pattern) return <>{text}</>;
  const out: ReactNode[] = [];
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    if (m[0] === '') continue;
    const start = m.index;
    if (start > at) out.push(text.slice(at, start));
    out.push(<mark key={start}>{m[0]}</mark>);
    at = start + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return <>{out}</>;
}
