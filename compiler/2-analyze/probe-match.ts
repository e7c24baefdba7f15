// compiler/2-analyze/probe-match.ts — wildcard matching for probe names
// (`sys_enter_*`, `SSL_read?`), shared by every probe resolver.

export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    '^' +
      glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
}

export const isGlob = (s: string): boolean => /[*?]/.test(s);

/** Names matching `pattern` (a glob, or one exact name). */
export function matchNames(pattern: string, names: readonly string[]): string[] {
  if (!isGlob(pattern)) return names.includes(pattern) ? [pattern] : [];
  const re = globToRegExp(pattern);
  return names.filter((n) => re.test(n));
}
