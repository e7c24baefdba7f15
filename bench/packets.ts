// bench/packets.ts — seed 004's flow aggregation at XDP, measured as seed 003
// measures: on two network namespaces joined by a veth pair (created here,
// removed after), a one-thread UDP flood from one side for a few seconds,
// packets/s through the pair from the receiving interface's own counter, and
// the kernel's BPF statistics (run_time_ns / run_cnt) of the program on the
// receiving side: nothing attached, capc's empty `xdp:` block (the XDP floor:
// veth switches to NAPI with a program attached), examples/flows.cap, and a
// hand-written C program doing the same (bench/workloads/xdp-flows.bpf.c,
// compiled with clang here, loaded with libbpf by xdp-load.c), and that C
// with flows.cap's map layout (what is left is the code). Configurations
// run round-robin, round after round; ratios are taken pair by pair.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createVethPair, type VethPair } from '../tests/support/netns.js';
import { capcBin, repoRoot } from '../tests/support/paths.js';
import { buildWorkload, mkTemp, progsOf, smoke, stat } from './lib.js';

const SECONDS = smoke ? 1 : Number(process.env.BENCH_PACKET_SECONDS ?? 3);
const PAYLOAD = 64;

interface Sample {
  pps: number;
  nsPerPacket: number;
}

interface Config {
  name: string;
  /** Start what runs on the receiving side; resolves when it is attached (undefined: nothing). */
  start?: (p: VethPair) => Promise<ChildProcess>;
}

function progStats(): Map<number, { run_time_ns: number; run_cnt: number }> {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as {
    id: number;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  return new Map(all.map((p) => [p.id, { run_time_ns: p.run_time_ns ?? 0, run_cnt: p.run_cnt ?? 0 }]));
}

function startUntil(p: VethPair, cmd: string, args: string[], marker: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', p.b.ns, cmd, ...args], {
      // fd 3: capc's --ready-fd pipe (CAPC_READY_FD=3); the C reference leaves it alone.
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd}: not attached in 60 s\n${out}`)), 60000);
    const on = (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    (child.stdio[3] as Readable).on('data', on);
    child.on('exit', (code) => reject(new Error(`${cmd} exited (${code}) before attaching\n${out}`)));
  });
}

const capc = (prog: string[]) => (p: VethPair) =>
  startUntil(p, capcBin, ['run', '-q', ...prog], 'attached\n', { CAPC_READY_FD: '3' });

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.stdin?.end(); // xdp-load holds its link until stdin closes
  child.kill('SIGINT');
  await done;
}

async function measure(p: VethPair, c: Config, flood: string): Promise<Sample> {
  const child = c.start ? await c.start(p) : undefined;
  try {
    const mine = child ? progsOf(child.pid!) : [];
    const s0 = progStats();
    const rx0 = p.counter(p.b, 'rx_packets');
    const t0 = process.hrtime.bigint();
    p.exec(p.a, flood, [p.b.ip4, String(PAYLOAD), String(SECONDS)], (SECONDS + 30) * 1000);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rx = p.counter(p.b, 'rx_packets') - rx0;
    const s1 = progStats();
    let ns = 0;
    let cnt = 0;
    for (const id of mine) {
      ns += (s1.get(id)?.run_time_ns ?? 0) - (s0.get(id)?.run_time_ns ?? 0);
      cnt += (s1.get(id)?.run_cnt ?? 0) - (s0.get(id)?.run_cnt ?? 0);
    }
    return { pps: rx / secs, nsPerPacket: cnt ? ns / cnt : NaN };
  } finally {
    await stop(child);
  }
}

export async function packetsBench(runs = 5): Promise<string> {
  const flood = buildWorkload('udp-flood');
  const loader = buildWorkload('xdp-load', ['-lbpf']);
  const dir = mkTemp('capc-bench-xdp-');
  const build = (name: string, defines: string[]) => {
    const obj = path.join(dir, `${name}.o`);
    const src = path.join(repoRoot, 'bench/workloads/xdp-flows.bpf.c');
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      '-I/usr/include/x86_64-linux-gnu',
      ...defines,
      '-c',
      src,
      '-o',
      obj,
    ]);
    return obj;
  };
  const obj = build('xdp-flows', []);
  const mirror = build('xdp-flows-capc-layout', ['-DCAPC_LAYOUT']);
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  const pair = createVethPair();
  const configs: Config[] = [
    { name: 'nothing attached' },
    { name: 'capc, empty xdp block (floor)', start: capc(['-e', `xdp:${pair.b.dev} { }`]) },
    { name: 'capc, examples/flows.cap', start: capc(['examples/flows.cap', pair.b.dev]) },
    {
      name: 'hand-written C (xdp-flows.bpf.c, libbpf)',
      start: (p) => startUntil(p, loader, [obj, p.b.dev], 'attached'),
    },
    {
      name: "the same C with flows.cap's maps (-DCAPC_LAYOUT)",
      start: (p) => startUntil(p, loader, [mirror, p.b.dev], 'attached'),
    },
  ];
  const samples = new Map<string, Sample[]>(configs.map((c) => [c.name, []]));
  const perPacketRatio: number[] = [];
  const sameMapsRatio: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const round = new Map<string, Sample>();
      for (const c of configs) {
        const s = await measure(pair, c, flood);
        samples.get(c.name)!.push(s);
        round.set(c.name, s);
      }
      sameMapsRatio.push(
        round.get('capc, examples/flows.cap')!.nsPerPacket /
          round.get("the same C with flows.cap's maps (-DCAPC_LAYOUT)")!.nsPerPacket,
      );
      perPacketRatio.push(
        round.get('capc, examples/flows.cap')!.nsPerPacket /
          round.get('hand-written C (xdp-flows.bpf.c, libbpf)')!.nsPerPacket,
      );
    }
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
    pair.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = stat(samples.get('nothing attached')!.map((s) => s.pps)).median;
  const rows = configs.map((c) => {
    const pps = stat(samples.get(c.name)!.map((s) => s.pps));
    const ns = stat(samples.get(c.name)!.map((s) => s.nsPerPacket));
    const k = (x: number) => `${(x / 1000).toFixed(0)}k`;
    return (
      `| ${c.name} | ${k(pps.median)} (${k(pps.min)}–${k(pps.max)}) | ${(pps.median / base).toFixed(2)}× | ` +
      (c.start ? `${ns.median.toFixed(0)} ns (${ns.min.toFixed(0)}–${ns.max.toFixed(0)})` : '–') +
      ' |'
    );
  });
  const r = stat(perPacketRatio);
  const m = stat(sameMapsRatio);
  return [
    '## Packets: flow aggregation at XDP (seed 004)',
    '',
    `A one-thread UDP flood (${PAYLOAD}-byte payloads, sendmmsg) for ${SECONDS} s from one network namespace to another over a veth pair; packets/s from the receiving interface's rx_packets; BPF ns per packet from the kernel's statistics of the program attached to it. ${runs} rounds, configurations interleaved; medians (min–max).`,
    '',
    '| on the receiving interface | packets/s | vs nothing attached | BPF ns per packet |',
    '|---|---|---|---|',
    ...rows,
    '',
    `capc's flows.cap / the hand-written C program, per packet, pair by pair: ${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}). The C program keeps packets and bytes in one map value, its key is 40 bytes, and it skips IPv6 extension headers; flows.cap updates four maps (two per flow with a 72-byte key, two totals) and walks extension headers. Against the same C with flows.cap's maps: ${m.median.toFixed(2)}× (${m.min.toFixed(2)}–${m.max.toFixed(2)}).`,
    '',
  ].join('\n');
}
