// bench/uprobes.ts — uprobes as uprobe_multi links against perf-event uprobes
// (--uprobes=multi|perf) and bpftrace 0.17: time to attached and SIGINT to
// exit for 1, 5 and 30 uprobes on libc functions, with capc's own attach and
// detach phases (CAPC_TIMING); and what a hit costs in each form: the BPF
// time per run (kernel statistics) and the traced process's CPU per probed
// call, which also pays the trap and the kernel's uprobe dispatch that BPF
// statistics do not see. Everything interleaved run by run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { capcBin } from '../tests/support/paths.js';
import { readySaid } from '../tests/support/ready.js';
import { buildTarget } from '../tests/support/targets.js';
import { fmtStat, mkTemp, retryHung, smoke, stat, timeToMarker, which } from './lib.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
/** The lead's list (a C program measured the kernel with the same 30). */
const FUNCS =
  'malloc free calloc realloc open close read write getpid fopen fclose fread fwrite printf puts strdup opendir readdir closedir getenv setenv qsort bsearch atoi strtol localtime mktime sleep usleep abort'.split(
    ' ',
  );
const COUNTS = [1, 5, 30];
const firstN = (n: number) =>
  `${FUNCS.slice(0, n)
    .map((f) => `uprobe:${LIBC}:${f}`)
    .join(',')} { @[probe] = count(); }`;

/** capc's own phase times from CAPC_TIMING: the attach phase and the detach phase (ms). */
function phases(out: string): { attach: number; detach: number } {
  const ms = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    attach: ms(/\[capc timing\] attached \d+ probes[^:]*: \+([\d.]+) ms/),
    detach: ms(/\[capc timing\] detached: \+([\d.]+) ms/),
  };
}

export async function uprobesBench(runs = 5): Promise<string> {
  const bpftrace = smoke ? undefined : which('bpftrace');
  const cache = mkTemp('capc-bench-uprobes-');
  const env = { CAPC_READY_FD: '3', CAPC_CACHE_DIR: cache, CAPC_TIMING: '1' };
  const capc = (n: number, form: string) =>
    timeToMarker(capcBin, ['run', '-q', `--uprobes=${form}`, '-e', firstN(n)], 'attached\n', env);
  const hangs = { n: 0 };
  const bt = (n: number) =>
    retryHung(
      () =>
        timeToMarker(bpftrace!, ['-e', firstN(n)], '__BPFTRACE_NOTIFY_PROBES_ATTACHED', {
          __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1',
        }),
      hangs,
    );
  const forms = ['multi', 'perf'];
  for (const n of COUNTS) for (const f of forms) await capc(n, f); // fill the cache
  const m = new Map<string, number[]>();
  const push = (k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  for (let i = 0; i < runs; i++) {
    for (const n of COUNTS) {
      for (const f of forms) {
        const r = await capc(n, f);
        const p = phases(r.out);
        push(`${f} ${n} start`, r.startMs);
        push(`${f} ${n} stop`, r.stopMs);
        push(`${f} ${n} attach`, p.attach);
        push(`${f} ${n} detach`, p.detach);
      }
      push(`ratio ${n}`, m.get(`multi ${n} stop`)!.at(-1)! / m.get(`perf ${n} stop`)!.at(-1)!);
      if (bpftrace) {
        const b = await bt(n);
        push(`bt ${n} start`, b.startMs);
        push(`bt ${n} stop`, b.stopMs);
        push(`btratio ${n}`, m.get(`multi ${n} stop`)!.at(-1)! / b.stopMs);
      }
    }
  }
  const s = (k: string) => fmtStat(stat(m.get(k)!), 'ms');
  const r = (k: string) => {
    const x = stat(m.get(k)!);
    return `${x.median.toFixed(3)}× (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
  };
  const lines = [
    '## Uprobes: uprobe_multi links against perf-event uprobes',
    '',
    `One block on the first N of 30 libc functions (\`uprobe:${LIBC}:malloc,free,...\`, the lead's list), warm cache; \`capc run --uprobes=multi\` (one uprobe_multi link per probe, auto's choice on this kernel) and \`--uprobes=perf\` (a perf-event uprobe each through libbpf, as before), bpftrace 0.17 beside them. ${runs} runs each, interleaved; median (min–max). "attach" and "detach" are capc's own phases (CAPC_TIMING: attaching every probe; destroying every link, each on a thread of its own); the other columns are seen from outside (start to \`attached\`; SIGINT to exit).`,
    '',
    '| uprobes | form | time to attached | attach phase | SIGINT to exit | detach phase |',
    '|---|---|---|---|---|---|',
    ...COUNTS.flatMap((n) => [
      `| ${n} | capc, uprobe_multi | ${s(`multi ${n} start`)} | ${s(`multi ${n} attach`)} | ${s(`multi ${n} stop`)} | ${s(`multi ${n} detach`)} |`,
      `| ${n} | capc, perf events | ${s(`perf ${n} start`)} | ${s(`perf ${n} attach`)} | ${s(`perf ${n} stop`)} | ${s(`perf ${n} detach`)} |`,
      bpftrace
        ? `| ${n} | bpftrace 0.17 | ${s(`bt ${n} start`)} | | ${s(`bt ${n} stop`)} | |`
        : `| ${n} | bpftrace | not installed: no number | | | |`,
    ]),
    '',
    'SIGINT to exit, pair by pair: ' +
      COUNTS.map(
        (n) =>
          `${n} uprobe${n > 1 ? 's' : ''}: uprobe_multi / perf ${r(`ratio ${n}`)}${bpftrace ? `, uprobe_multi / bpftrace ${r(`btratio ${n}`)}` : ''}`,
      ).join('; ') +
      '.',
    '',
    hangs.n
      ? `bpftrace 0.17 did not exit after SIGINT in ${hangs.n} run(s) (killed after 20 s); those runs were repeated and are not in the numbers.`
      : '',
    '',
    await perCallCost(runs),
  ];
  return lines.join('\n');
}

/** BPF ns per run of capc's programs, from bpftool (kernel.bpf_stats_enabled must be 1). */
function bpfStats(): Map<number, { ns: number; cnt: number; name?: string }> {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as {
    id: number;
    name?: string;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  return new Map(all.map((p) => [p.id, { ns: p.run_time_ns ?? 0, cnt: p.run_cnt ?? 0, name: p.name }]));
}

/**
 * The traced process's CPU per call of add() (target.c, CALLS calls) with no
 * probe and with `@ = count()` on it in each form, and the BPF time per run.
 */
async function perCallCost(runs: number): Promise<string> {
  const target = buildTarget('target');
  const calls = smoke ? 20000 : 200000;
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  const prog = `uprobe:${target}:add { @ = count(); }`;
  const cpu = new Map<string, number[]>();
  const bpf = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const timed = () => {
    const t = execFileSync(
      'bash',
      ['-c', 'TIMEFORMAT="%3U %3S"; { time "$0" "$1" >/dev/null; } 2>&1', target, String(calls)],
      { encoding: 'utf8' },
    );
    const [u, sy] = t.trim().split(/\s+/).map(Number);
    return (u! + sy!) / calls;
  };
  try {
    for (let i = 0; i < runs; i++) {
      push(cpu, 'none', timed());
      for (const form of ['multi', 'perf']) {
        const r = await withCapc([`--uprobes=${form}`, '-e', prog], async (mine) => {
          const a = bpfStats();
          const c = timed();
          const b = bpfStats();
          let ns = 0;
          let cnt = 0;
          for (const id of mine) {
            ns += (b.get(id)?.ns ?? 0) - (a.get(id)?.ns ?? 0);
            cnt += (b.get(id)?.cnt ?? 0) - (a.get(id)?.cnt ?? 0);
          }
          return { c, ns: cnt ? ns / cnt : NaN };
        });
        push(cpu, form, r.c);
        push(bpf, form, r.ns);
      }
    }
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
  }
  const us = (k: string) => fmtStat(stat(cpu.get(k)!.map((x) => x * 1e6)), 'µs', 2);
  const added = (k: string) => {
    const base = stat(cpu.get('none')!).median;
    return `${((stat(cpu.get(k)!).median - base) * 1e6).toFixed(2)} µs`;
  };
  return [
    `### What a hit costs in each form`,
    '',
    `\`${prog.replace(target, 'target')}\` while target.c calls add() ${calls} times (its other functions unprobed); ${runs} runs each, interleaved; median (min–max). BPF ns per run from the kernel's statistics; CPU per call is the target's user + system time (bash \`time\`) over the calls of its whole loop, so the trap, the kernel's uprobe dispatch and the return to user space count.`,
    '',
    '| form | target CPU per loop iteration | added by the probe (median) | BPF ns per run |',
    '|---|---|---|---|',
    `| no probe | ${us('none')} | | |`,
    `| uprobe_multi | ${us('multi')} | ${added('multi')} | ${fmtStat(stat(bpf.get('multi')!), 'ns')} |`,
    `| perf-event uprobe | ${us('perf')} | ${added('perf')} | ${fmtStat(stat(bpf.get('perf')!), 'ns')} |`,
    '',
  ].join('\n');
}

/** Run `fn` with the ids of capc's programs (its ready descriptor says them) while capc runs `args`, attached. */
async function withCapc<T>(args: string[], fn: (ids: number[]) => Promise<T>): Promise<T> {
  const { spawn } = await import('node:child_process');
  const child = spawn(capcBin, ['run', '-q', '-o', '/dev/null', ...args], {
    env: { ...process.env, CAPC_READY_FD: '3' },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`capc: not attached in 60 s\n${err}`)), 60000);
    child.stdio[3]!.on('data', (d: Buffer) => {
      said += d.toString();
      if (readySaid(said).attached) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`capc exited before attaching\n${err}`)));
  });
  try {
    return await fn(readySaid(said).ids);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}
