// bench/types.ts — what C types cost at compile time: time from `capc run` to
// "probes attached" for a script with 20 struct definitions and one
// #include, against the same probe without them, interleaved run by run.
// Every run is a program capc has not seen (a new predicate), so the compiler
// and clang run each time; the header cache is warm. Two cases with types:
// the C definitions' layout cached (the same definitions, as when a script
// is edited below them) and not cached (the definitions change each run, so
// clang lays them out again).
import { capcBin } from '../tests/support/paths.js';
import { fmtStat, mkTemp, stat, timeToMarker } from './lib.js';

/** 20 structs that refer to each other, with arrays, unions and bitfields. */
function definitions(salt: number): string {
  const out = ['#include <linux/in.h>', `#define BENCH_SALT ${salt}`];
  for (let i = 0; i < 20; i++)
    out.push(
      `struct s${i} { int id; unsigned flags : 3, kind : 5; char name[16]; long long v[4]; ` +
        `union { int i; unsigned char b[4]; } u; ${i ? `struct s${i - 1} *prev; struct s${i - 1} inner;` : 'void *prev;'} };`,
    );
  return out.join('\n') + '\n';
}

const probe = (n: number, typed: boolean) =>
  `tracepoint:syscalls:sys_enter_openat /pid != ${n}/ { ` +
  (typed
    ? '$s = (struct s19 *)kptr(0); @[comm, IPPROTO_TCP, sizeof(struct s19)] = count(); if (pid == 1) { printf("%d\\n", $s->inner.prev->u.b[2]); } }'
    : '@[comm, 6, 1024] = count(); }');

export async function typesBench(runs = 5): Promise<string> {
  const cache = mkTemp('capc-bench-types-');
  const start = async (prog: string) =>
    (
      await timeToMarker(capcBin, ['run', '-q', '-e', prog], 'attached\n', {
        CAPC_READY_FD: '3',
        CAPC_CACHE_DIR: cache,
      })
    ).startMs;
  const base = 2000000 + (Date.now() % 100000) * 10;
  await start(definitions(0) + probe(base, true)); // warm the header and definitions caches
  const plain: number[] = [],
    cached: number[] = [],
    fresh: number[] = [],
    cachedRatio: number[] = [],
    freshRatio: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const p = await start(probe(base + i * 3, false));
    const c = await start(definitions(0) + probe(base + i * 3 + 1, true));
    const f = await start(definitions(i) + probe(base + i * 3 + 2, true));
    plain.push(p);
    cached.push(c);
    fresh.push(f);
    cachedRatio.push(c / p);
    freshRatio.push(f / p);
  }
  const r = (xs: number[]) => `${stat(xs).median.toFixed(2)}× (${stat(xs).min.toFixed(2)}–${stat(xs).max.toFixed(2)})`;
  return [
    '## C types at compile time',
    '',
    `\`capc run\` to "probes attached", a program not seen before (compiler and clang run), header cache warm; ${runs} runs, interleaved.`,
    '',
    '| script | time to attached | against no types, pair by pair |',
    '|---|---|---|',
    `| one tracepoint, no types | ${fmtStat(stat(plain), 'ms')} | |`,
    `| the same with 20 structs and #include <linux/in.h>, layout cached | ${fmtStat(stat(cached), 'ms')} | ${r(cachedRatio)} |`,
    `| the same, definitions changed (clang lays them out again) | ${fmtStat(stat(fresh), 'ms')} | ${r(freshRatio)} |`,
    '',
  ].join('\n');
}
