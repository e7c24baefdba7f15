// tests/fuzz/oracle.ts — what must hold for any input, checked in three
// stages of rising cost:
//   1. the compiler passes never throw (no E0999) and their diagnostics render;
//   2. every program they accept compiles with clang, warnings included
//      (the generated C is the product: -Wall clean);
//   3. a sample of accepted programs loads through the real kernel verifier.
// Used by the CI fuzz test and by the long campaign (campaign.ts).
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compile } from '../../compiler/compile.js';
import type { Manifest } from '../../compiler/manifest.js';
import { renderDiagnostics } from '../../diagnostics/render.js';
import type { SourceFile } from '../../grammar/ast.js';
import { BpfObject } from '../../runtime/bpf/object.js';
import { CapcError } from '../../runtime/errors.js';
import { native } from '../../runtime/ffi/libbpf.js';
import { CLANG_FLAGS, prepareHeaders } from '../../runtime/build/clang.js';
import { clangPath } from '../../runtime/build/environment.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

export interface FuzzCase {
  text: string;
  positional: string[];
  origin: string;
}

export interface Compiled {
  fuzz: FuzzCase;
  source: SourceFile;
  c: string;
  manifest: Manifest;
}

export interface Failure {
  stage: 'compiler' | 'render' | 'clang' | 'verifier';
  fuzz: FuzzCase;
  detail: string;
}

/** Stage 1. Returns the C when the program is accepted. */
export function compileCase(fuzz: FuzzCase): { accepted?: Compiled; failure?: Failure } {
  const source: SourceFile = { name: 'fuzz.cap', text: fuzz.text };
  const r = compile(source, fixtureHost, { positional: fuzz.positional, cFileName: 'fuzz.bpf.c' });
  const internal = r.diagnostics.find((d) => d.code === 'E0999');
  if (internal)
    return { failure: { stage: 'compiler', fuzz, detail: `${internal.message}\n${internal.hints.join('\n')}` } };
  try {
    renderDiagnostics(r.diagnostics, source, (_s, t) => t);
  } catch (e) {
    return { failure: { stage: 'render', fuzz, detail: (e as Error).stack ?? String(e) } };
  }
  if (r.ok && !r.diagnostics.some((d) => d.severity === 'error') && r.output) {
    return { accepted: { fuzz, source, c: r.output.c, manifest: r.output.manifest } };
  }
  return {};
}

/**
 * Warnings about the style of an expression the user wrote (`!a & b`,
 * `a == b != c`, `x && 42`) are carried into the C faithfully and are not
 * capc's to fix; every other warning is an error here.
 */
const USER_STYLE_WARNINGS_OFF = [
  '-Wno-parentheses',
  '-Wno-logical-not-parentheses',
  '-Wno-tautological-compare',
  '-Wno-tautological-constant-out-of-range-compare',
  '-Wno-constant-logical-operand',
  '-Wno-bitwise-op-parentheses',
  '-Wno-shift-op-parentheses',
  '-Wno-tautological-constant-compare',
  '-Wno-self-assign',
  '-Wno-bitwise-instead-of-logical',
  '-Wno-int-in-bool-context',
  '-Wno-xor-used-as-pow',
  // A constant expression that overflows 64 bits wraps: defined by -fwrapv, as .cap defines it.
  '-Wno-integer-overflow',
];

/** Stage 2: clang on every distinct accepted C, `concurrency` at a time. Returns objects by C hash. */
export async function clangAll(
  accepted: Compiled[],
  concurrency = os.cpus().length,
): Promise<{ failures: Failure[]; objects: Map<string, Buffer>; distinct: number }> {
  const headers = prepareHeaders();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-fuzz-'));
  const byHash = new Map<string, Compiled>();
  for (const a of accepted) byHash.set(hashOf(a.c), a);
  const queue = [...byHash];
  const failures: Failure[] = [];
  const objects = new Map<string, Buffer>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [hash, a] = next;
      const cPath = path.join(work, `${hash}.bpf.c`);
      const oPath = path.join(work, `${hash}.o`);
      fs.writeFileSync(cPath, a.c);
      const args = [
        ...CLANG_FLAGS,
        '-Werror',
        ...USER_STYLE_WARNINGS_OFF,
        '-I',
        headers.dir,
        ...(headers.pch ? ['-include-pch', headers.pch] : []),
        '-c',
        cPath,
        '-o',
        oPath,
      ];
      const stderr = await new Promise<string | undefined>((resolve) => {
        execFile(clangPath(), args, { cwd: work, maxBuffer: 16 << 20 }, (err, _o, e) =>
          resolve(err || e.trim() ? `${e}${err ? `\n(${err.message.split('\n')[0]})` : ''}` : undefined),
        );
      });
      if (stderr !== undefined)
        failures.push({ stage: 'clang', fuzz: a.fuzz, detail: `${stderr}\n--- generated C ---\n${a.c}` });
      else objects.set(hash, fs.readFileSync(oPath));
      fs.rmSync(cPath, { force: true });
      fs.rmSync(oPath, { force: true });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { failures, objects, distinct: byHash.size };
}

/**
 * Stage 3: load (never attach) through the kernel verifier, with capc's own
 * loader. A kernel that refuses a whole kind of program before its verifier
 * runs (fentry/fexit on this machine: BPF trampolines, EPERM; capc says so
 * with E0802) is the machine's limit, not capc's: the program's other probes
 * are loaded without those (the mutated seeds include the probe-kinds sample).
 */
export function verifierLoad(a: Compiled, object: Buffer, without: string[] = []): Failure | undefined {
  const obj = BpfObject.open(object, a.manifest, 'capc_fuzz');
  try {
    for (const name of without) native().program_set_autoload(obj.program(name).ptr, false);
    obj.load(a.source, true);
    return undefined;
  } catch (e) {
    const trampolines = a.manifest.probes.filter((p) => p.attach.kind === 'fentry').map((p) => p.program);
    if (e instanceof CapcError && e.code === 'E0802' && !without.length && trampolines.length) {
      obj.close();
      return verifierLoad(a, object, trampolines);
    }
    const err = e as Error & { detail?: string };
    return {
      stage: 'verifier',
      fuzz: a.fuzz,
      detail: `${err.message}\n${(err.detail ?? '').split('\n').slice(-30).join('\n')}\n--- generated C ---\n${a.c}`,
    };
  } finally {
    obj.close();
  }
}

/** The verifier's complexity limits (paths to explore, instructions processed), not a rule it enforces. */
const COMPLEXITY = /jumps is too complex|BPF program is too large|too many states/;

/**
 * Stage 3 for a generated program: its random `while` loops run up to
 * loop_limit (1,024) times, and a body with several map updates and string
 * tests can take the verifier past its complexity limits at that many
 * iterations; capc then says so (E0701 with a hint to lower loop_limit), as
 * it should. Such a rejection is checked again with `loop_limit = 32`: the
 * program must then load, or it is a failure like any other. `bounded` says
 * the retry was needed (the test reports how often).
 */
export async function verifierLoadBounded(
  a: Compiled,
  object: Buffer,
): Promise<{ failure?: Failure; bounded?: boolean }> {
  const failure = verifierLoad(a, object);
  if (!failure || !COMPLEXITY.test(failure.detail) || !/\bwhile\b/.test(a.fuzz.text)) return { failure };
  const smaller = compileCase({ ...a.fuzz, text: `${a.fuzz.text}\nconfig = { loop_limit = 32 }\n` });
  if (!smaller.accepted) return { failure };
  const clang = await clangAll([smaller.accepted], 1);
  const obj = clang.objects.get(hashOf(smaller.accepted.c));
  if (!obj) return { failure: clang.failures[0] ?? failure };
  const again = verifierLoad(smaller.accepted, obj);
  return again ? { failure: again } : { bounded: true };
}

export function hashOf(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A failure as text a person can act on: the stage, the input, and how to replay it. */
export function describe(f: Failure): string {
  return [
    `[${f.stage}] from ${f.fuzz.origin}${f.fuzz.positional.length ? ` with positional ${JSON.stringify(f.fuzz.positional)}` : ''}`,
    '--- input ---',
    f.fuzz.text,
    '--- detail ---',
    f.detail.slice(0, 4000),
  ].join('\n');
}

/** Keep a failing input as a regression case (replayed by fuzz.test.ts). Returns its path. */
export function saveRegression(dir: string, f: Failure): string {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${f.stage}-${hashOf(f.fuzz.text + '\0' + f.fuzz.positional.join('\0'))}`);
  fs.writeFileSync(`${base}.cap`, f.fuzz.text);
  fs.writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        positional: f.fuzz.positional,
        origin: f.fuzz.origin,
        stage: f.stage,
        detail: f.detail.split('\n--- generated C ---')[0]!.slice(0, 2000),
      },
      null,
      2,
    ) + '\n',
  );
  return `${base}.cap`;
}

export function loadRegressions(dir: string): FuzzCase[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cap'))
    .sort()
    .map((f) => {
      const meta = path.join(dir, f.replace(/\.cap$/, '.json'));
      const positional = fs.existsSync(meta)
        ? ((JSON.parse(fs.readFileSync(meta, 'utf8')) as { positional?: string[] }).positional ?? [])
        : [];
      return { text: fs.readFileSync(path.join(dir, f), 'utf8'), positional, origin: `regression ${f}` };
    });
}
