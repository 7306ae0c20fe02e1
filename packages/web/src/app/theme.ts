import { useEffect, useState } from 'react';

/** The theme the operator chose: follow the system, or always light or dark. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'vigil.theme';

/** The stored choice (the system's by default). */
export function storedTheme(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** Applies a choice to the document: `data-theme` overrides the `prefers-color-scheme` default. */
export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', choice);
}

/** Whether the page is drawn dark now (the choice, or the system's when it follows it). */
export function isDark(): boolean {
  const t = document.documentElement.getAttribute('data-theme');
  if (t) return t === 'dark';
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The theme choice, kept in local storage and applied at once. */
export function useTheme(): [ThemeChoice, (c: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  useEffect(() => {
    applyTheme(choice);
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
    window.dispatchEvent(new Event('vigil:theme'));
  }, [choice]);
  return [choice, setChoice];
}
