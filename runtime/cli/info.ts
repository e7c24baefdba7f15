// runtime/cli/info.ts — `capc --info` (bpftrace --info): the system, the
// tools capc builds with, and what the kernel supports, each asked of the
// kernel (runtime/bpf/features.ts) rather than assumed.
import os from 'node:os';
import { kernelFeatures } from '../bpf/features.js';
import { requirePrivileges } from '../build/environment.js';
import { clangVersion } from '../build/environment.js';
import { EXIT_OK, reportFailure } from './common.js';
import { VERSION } from './version.js';

export async function infoCommand(): Promise<number> {
  try {
    requirePrivileges();
    const f = kernelFeatures();
    let clang: string;
    try {
      clang = clangVersion();
    } catch (e) {
      clang = `not found (${(e as Error).message.split('\n')[0]})`;
    }
    const section = (title: string, rows: [string, string][]) =>
      `${title}\n${rows.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`;
    const out = [
      section('System', [
        ['OS', `${os.type()} ${os.release()} ${os.version()}`],
        ['Arch', os.machine()],
      ]),
      section('Build', [
        ['version', `capc ${VERSION}`],
        ['clang', clang],
        ['node', process.version],
      ]),
      section('Kernel helpers', f.helpers),
      section('Kernel features', f.features),
      section('Map types', f.maps),
      section(
        'Probe types',
        f.probes.map(([k, v, why]) => [k, why ? `${v} (${why})` : v]),
      ),
    ];
    process.stdout.write(out.join('\n'));
    return EXIT_OK;
  } catch (e) {
    return reportFailure(e, undefined, false);
  }
}
