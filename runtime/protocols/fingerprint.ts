// runtime/protocols/fingerprint.ts — a statement with its literals replaced
// by `?`, so that statements differing only in their values group together:
// SQL (strings, numbers, hex and bit literals, PostgreSQL's dollar-quoted
// strings and $n parameters; IN lists and multi-row VALUES collapsed to one;
// comments dropped, whitespace runs made one space), HTTP (path segments
// that are ids, query values) and Redis (arguments). Case is kept.

export type SqlDialect = 'mysql' | 'postgres';

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdent = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 95 || c === 36 || c >= 128;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/** After these (or at the start), `-5` is a negative literal, not a subtraction. */
const OPERATOR_BEFORE = new Uint8Array(128);
for (const c of '(,=<>+-*/%!|&^~') OPERATOR_BEFORE[c.charCodeAt(0)] = 1;

export function sqlFingerprint(sql: string, dialect: SqlDialect): string {
  return collapseLists(fingerprintSql(sql, dialect));
}

/**
 * One pass over the text, writing tokens to a string: a whitespace run
 * before a token becomes one space; `last` is the last character written
 * (0 at the start), which tells `-5` from `a - 5`; `tokenAt` is where the
 * last token begins in `out`, for E'...' (PostgreSQL's escape string).
 */
function fingerprintSql(sql: string, dialect: SqlDialect): string {
  let out = '';
  let space = false;
  let last = 0;
  let tokenAt = 0;
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      space = true;
      i++;
      continue;
    }
    // Comments: -- to end of line, # (MySQL) to end of line, /* ... */.
    if ((c === 45 && sql.charCodeAt(i + 1) === 45) || (c === 35 && dialect === 'mysql')) {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
      space = true;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      space = true;
      continue;
    }
    let token: string;
    // Strings: '...' (MySQL: backslash escapes; PostgreSQL: only E'...'), "..." in MySQL.
    if (c === 39 || (c === 34 && dialect === 'mysql')) {
      let backslash = dialect === 'mysql';
      if (!backslash && !space && out.length === tokenAt + 1 && (last | 32) === 101) {
        out = out.slice(0, tokenAt); // E'...': PostgreSQL's escape string
        backslash = true;
      }
      i = skipQuoted(sql, i, c, backslash);
      token = '?';
    } else if (c === 34 || c === 96) {
      // "identifier" (PostgreSQL), `identifier` (MySQL): kept.
      const e = skipQuoted(sql, i, c, false);
      token = sql.slice(i, e);
      i = e;
    } else {
      const j = literalEnd(sql, i, c, dialect, last);
      if (j > 0) {
        token = '?';
        i = j;
      } else if (isIdent(c)) {
        let k = i + 1;
        while (k < n && isIdent(sql.charCodeAt(k))) k++;
        token = sql.slice(i, k);
        i = k;
      } else {
        token = sql[i]!;
        i++;
      }
    }
    if (space && out.length) out += ' ';
    space = false;
    tokenAt = out.length;
    out += token;
    last = token.charCodeAt(token.length - 1);
  }
  return out;
}

/** Where a literal starting at `i` ends ($n, $tag$...$tag$, a number with its sign, 0x.., x'..', b'..'); 0: none. */
function literalEnd(sql: string, i: number, c: number, dialect: SqlDialect, last: number): number {
  // PostgreSQL: $1 parameters and $tag$ ... $tag$ strings.
  if (c === 36 && dialect === 'postgres') {
    let j = i + 1;
    while (j < sql.length && isDigit(sql.charCodeAt(j))) j++;
    if (j > i + 1) return j;
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
    if (m) {
      const e = sql.indexOf(m[0], i + m[0].length);
      return e < 0 ? sql.length : e + m[0].length;
    }
  }
  // Numbers (and a sign when it cannot be a subtraction), 0x.., x'..', b'..'.
  const signed = (c === 45 || c === 43) && (last === 0 || (last < 128 && OPERATOR_BEFORE[last] === 1));
  const at = signed ? i + 1 : i;
  const d = sql.charCodeAt(at);
  if (isDigit(d) || (d === 46 && isDigit(sql.charCodeAt(at + 1)))) return skipNumber(sql, at);
  if ((c === 120 || c === 88 || c === 98 || c === 66) && sql.charCodeAt(i + 1) === 39)
    return skipQuoted(sql, i + 1, 39, false);
  return 0;
}

function skipQuoted(s: string, i: number, quote: number, backslash: boolean): number {
  const n = s.length;
  let j = i + 1;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (backslash && c === 92) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (s.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n;
}

function skipNumber(s: string, i: number): number {
  const n = s.length;
  if (s.charCodeAt(i) === 48 && (s.charCodeAt(i + 1) | 32) === 120) {
    let j = i + 2;
    while (j < n && /[0-9a-fA-F]/.test(s[j]!)) j++;
    return j;
  }
  let j = i;
  while (j < n && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
  if (j < n && (s.charCodeAt(j) | 32) === 101) {
    let k = j + 1;
    if (s[k] === '+' || s[k] === '-') k++;
    if (isDigit(s.charCodeAt(k))) {
      j = k;
      while (j < n && isDigit(s.charCodeAt(j))) j++;
    }
  }
  return j;
}

const IN_LIST = /\b(IN)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi;
const TUPLE = String.raw`\(\s*\?(?:\s*,\s*\?)*\s*\)`;
const TUPLES = new RegExp(`(${TUPLE})(?:\\s*,\\s*${TUPLE})+`, 'g');

/** Does `(` followed by `?` (spaces between) occur? Most statements have no list: the regular expressions are not run. */
function hasList(s: string): boolean {
  for (let i = s.indexOf('('); i >= 0; i = s.indexOf('(', i + 1)) {
    let j = i + 1;
    while (j < s.length && isSpace(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === 63) return true;
  }
  return false;
}

/** `IN (?, ?, ?)` → `IN (?)`; `VALUES (?, ?), (?, ?)` → `VALUES (?, ?)`. */
function collapseLists(s: string): string {
  if (!hasList(s)) return s;
  return s.replace(IN_LIST, '$1 (?)').replace(TUPLES, '$1');
}

/** `GET /api/orders/17?x=3` → `GET /api/orders/??x=?`: ids (numbers, hex, uuids) and query values. */
export function httpFingerprint(method: string, target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const segs = path
    .split('/')
    .map((seg) =>
      /^\d+$/.test(seg) ||
      /^[0-9a-f]{8,}$/i.test(seg) ||
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) ||
      (/\d/.test(seg) && /^[A-Za-z0-9_-]{16,}$/.test(seg))
        ? '?'
        : seg,
    )
    .join('/');
  if (q < 0) return `${method} ${segs}`;
  const query = target
    .slice(q + 1)
    .split('&')
    .map((kv) => {
      const e = kv.indexOf('=');
      return e < 0 ? kv : `${kv.slice(0, e)}=?`;
    })
    .join('&');
  return `${method} ${segs}?${query}`;
}

/** Redis commands whose first argument is a subcommand (`CONFIG GET`, `CLIENT SETNAME`). */
const SUBCOMMANDS = new Set([
  'ACL',
  'CLIENT',
  'CLUSTER',
  'COMMAND',
  'CONFIG',
  'DEBUG',
  'FUNCTION',
  'LATENCY',
  'MEMORY',
  'MODULE',
  'OBJECT',
  'PUBSUB',
  'SCRIPT',
  'SLOWLOG',
  'XGROUP',
  'XINFO',
]);

/** `SET user:17 hello` → `SET ? ?`; more than three arguments end in `...`. */
export function redisFingerprint(args: string[]): string {
  if (!args.length) return '';
  const cmd = args[0]!.toUpperCase();
  let head = cmd;
  let rest = args.length - 1;
  if (SUBCOMMANDS.has(cmd) && args.length > 1) {
    head = `${cmd} ${args[1]!.toUpperCase()}`;
    rest--;
  }
  const shown = Math.min(rest, 3);
  return head + ' ?'.repeat(shown) + (rest > shown ? ' ...' : '');
}
