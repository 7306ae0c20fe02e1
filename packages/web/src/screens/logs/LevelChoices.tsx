import { LEVELS, writeQuery } from './query';

/**
 * The levels a search keeps, as checkboxes (none checked: every level); each change goes to the
 * address at once.
 */
export function LevelChoices({ level }: { level: string }) {
  const levels = level ? level.split(',') : [];
  const toggle = (l: string) => {
    const next = levels.includes(l) ? levels.filter((x) => x !== l) : [...levels, l];
    writeQuery({ level: LEVELS.filter((x) => next.includes(x)).join(',') });
  };
  return (
    <fieldset className="log-levels">
      <legend>Levels</legend>
      {LEVELS.map((l) => (
        <label key={l} className="inline">
          <input type="checkbox" checked={levels.includes(l)} onChange={() => toggle(l)} />
          {l}
        </label>
      ))}
    </fieldset>
  );
}
