// runtime/ui/theme.ts — colours for the terminal UI, and NO_COLOR: with it
// set, nothing is coloured; emphasis uses bold, dim and inverse only (which
// NO_COLOR allows), so red drops still stand out.
import { createContext, useContext } from 'react';
import type { Tone } from './lines.js';

export interface Theme {
  color: boolean;
  /** Props for a <Text> of this tone. */
  tone(t: Tone | 'warn' | 'accent' | 'ok'): { color?: string; dimColor?: boolean; bold?: boolean };
}

const COLORS: Record<string, string> = {
  out: 'cyan',
  in: 'green',
  loss: 'red',
  warn: 'red',
  accent: 'yellow',
  ok: 'green',
};

export function makeTheme(color: boolean): Theme {
  return {
    color,
    tone(t) {
      if (t === 'plain') return {};
      if (t === 'dim') return { dimColor: true };
      if (!color) return t === 'loss' || t === 'warn' || t === 'accent' ? { bold: true } : {};
      return { color: COLORS[t], bold: t === 'warn' };
    },
  };
}

export const ThemeContext = createContext<Theme>(makeTheme(false));
export const useTheme = (): Theme => useContext(ThemeContext);
