// bench/reference.ts — the hand-written C reference capc's capture is
// measured against (bench/workloads/ref-acc.bpf.c + ref-acc.c: seed 000's
// accumulator with libbpf and a C consumer writing stream files), built here
// with clang and cc into a private directory, and the byte-exact check of
// what any capture wrote against what the TLS workload sent.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mkTemp, run } from './lib.js';

export interface RefBuild {
  /** BPF objects: the copy at SSL_write entry (seed 000's design) and at its return (exact, as capc's default). */
  entry: string;
  ret: string;
  consumer: string;
}

let built: RefBuild | undefined;

/** Build the reference once per benchmark process (a private 0700 directory: nothing another user can replace). */
export function buildReference(): RefBuild {
  if (built) return built;
  const dir = mkTemp('capc-bench-ref-');
  const src = (f: string) => new URL(`./workloads/${f}`, import.meta.url).pathname;
  const bpf = (out: string, defs: string[]) =>
    execFileSync(
      'clang',
      [
        '-O2',
        '-g',
        '-target',
        'bpf',
        '-mcpu=v3', // as capc compiles (runtime/toolchain/clang.ts)
        '-D__TARGET_ARCH_x86',
        '-I/usr/include/x86_64-linux-gnu',
        ...defs,
        '-c',
        src('ref-acc.bpf.c'),
        '-o',
        out,
      ],
      { stdio: 'inherit' },
    );
  built = {
    entry: path.join(dir, 'ref-entry.o'),
    ret: path.join(dir, 'ref-return.o'),
    consumer: path.join(dir, 'ref-acc'),
  };
  bpf(built.entry, []);
  bpf(built.ret, ['-DAT_RETURN']);
  execFileSync('cc', ['-O2', '-o', built.consumer, src('ref-acc.c'), '-lbpf'], { stdio: 'inherit' });
  return built;
}

/** The path of libssl.so.3 as the dynamic linker finds it. */
export function libssl(): string {
  const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const m = /\blibssl\.so\.3 \(libc6,x86-64\) => (\S+)/.exec(out);
  if (!m) throw new Error('libssl.so.3 not found by ldconfig');
  return m[1]!;
}

export interface RefResult {
  records: number;
  bytes: number;
  drops: number;
  droppedBytes: number;
  cpu: number;
  /** BPF ns of every program, and SSL_write calls seen (entry program runs). */
  bpfNs: number;
  bpfRuns: number;
  /** The workload's output (its "writes ... writes_per_sec" line). */
  stdout: string;
}

export async function runReference(
  obj: string,
  ringBytes: number,
  outDir: string,
  workload: string[],
): Promise<RefResult> {
  const b = buildReference();
  const r = await run(b.consumer, [obj, libssl(), String(ringBytes), outDir, '--', ...workload]);
  const m =
    /records (\d+) bytes (\d+) drops (\d+) dropped_bytes (\d+) refused \d+ ends \d+ seconds [\d.]+ cpu ([\d.]+) bpf_ns (\d+) bpf_runs (\d+)/.exec(
      r.stdout,
    );
  if (r.code !== 0 || !m) throw new Error(`C reference failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return {
    records: Number(m[1]),
    bytes: Number(m[2]),
    drops: Number(m[3]),
    droppedBytes: Number(m[4]),
    cpu: Number(m[5]),
    bpfNs: Number(m[6]),
    bpfRuns: Number(m[7]),
    stdout: r.stdout,
  };
}

/** What bench/workloads/tls-frag.c sends: WRITES writes of FRAG bytes, the first byte numbering the write in its message. */
function expectedChunk(frag: number): Buffer {
  const msg = Buffer.alloc(frag);
  for (let i = 0; i < frag; i++) msg[i] = 0x61 + (i % 26);
  return msg;
}

export interface StreamCheck {
  /** Bytes of the stream that were captured (and equal what was sent). */
  kept: number;
  /** Bytes of holes (zero bytes: the workload never sends a zero byte). */
  holes: number;
  total: number;
}

/**
 * Compare a stream file with what tls-frag sent. Holes (bytes lost and
 * counted) read as zeros, which the workload never sends; any other
 * difference is an error: the capture wrote a wrong byte.
 */
export function checkTlsFragStream(file: string, writes: number, frag: number, perMsg: number): StreamCheck {
  const total = writes * frag;
  const size = fs.statSync(file).size;
  if (size !== total) throw new Error(`${file}: ${size} bytes, the workload sent ${total}`);
  const fd = fs.openSync(file, 'r');
  const per = Math.max(1, Math.floor((1 << 20) / frag));
  const block = Buffer.alloc(per * frag);
  const want = Buffer.alloc(per * frag);
  const msg = expectedChunk(frag);
  let kept = 0;
  let holes = 0;
  try {
    for (let w = 0; w < writes; w += per) {
      const n = Math.min(per, writes - w);
      const len = n * frag;
      fs.readSync(fd, block, 0, len, w * frag);
      for (let i = 0; i < n; i++) {
        msg[0] = 0x30 + (((w + i) % perMsg) % 10);
        msg.copy(want, i * frag);
      }
      if (block.subarray(0, len).equals(want.subarray(0, len))) {
        kept += len;
        continue;
      }
      for (let i = 0; i < len; i++) {
        if (block[i] === want[i]) kept++;
        else if (block[i] === 0) holes++;
        else throw new Error(`${file}: byte ${w * frag + i} is ${block[i]}, the workload sent ${want[i]}`);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { kept, holes, total };
}

/** The one egress stream file a capture wrote under `dir` (capc's layout may nest it in subdirectories). */
export function egressFile(dir: string): string {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/egress.*\.bin$/.test(e.name)) found.push(path.join(d, e.name));
    }
  };
  walk(dir);
  if (found.length !== 1) throw new Error(`expected one egress stream in ${dir}, found ${found.length}`);
  return found[0]!;
}
