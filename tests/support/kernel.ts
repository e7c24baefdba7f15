// tests/support/kernel.ts — gates tests that need the real kernel (root,
// BTF, clang, bpftool, a built capc). Elsewhere they skip with the reason;
// with CAPC_REQUIRE_KERNEL=1 (CI) a missing requirement fails the test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from './paths.js';

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let reason: string | undefined | null = null;
export function kernelSkipReason(): string | undefined {
  if (reason !== null) return reason;
  reason = undefined;
  if (process.getuid?.() !== 0) reason = 'needs root';
  else if (!fs.existsSync('/sys/kernel/btf/vmlinux')) reason = 'needs kernel BTF (/sys/kernel/btf/vmlinux)';
  else if (!which('clang')) reason = 'needs clang (apt-get install clang)';
  else if (!which('bpftool')) reason = 'needs bpftool (apt-get install bpftool)';
  else if (!fs.existsSync(path.join(repoRoot, 'dist/capc.mjs'))) reason = 'capc is not built (npm run build)';
  return reason;
}

/** True when the test may use the kernel; otherwise skips it (or fails under CAPC_REQUIRE_KERNEL=1). */
export function requireKernel(t: TestContext): boolean {
  const why = kernelSkipReason();
  if (!why) return true;
  if (process.env.CAPC_REQUIRE_KERNEL === '1')
    throw new Error(`kernel test cannot run here: ${why} (CAPC_REQUIRE_KERNEL=1)`);
  t.skip(why);
  return false;
}

/** For tests that need an extra tool (a C compiler, bpftrace, openssl...). */
export function requireTool(t: TestContext, tool: string): boolean {
  if (which(tool)) return true;
  if (process.env.CAPC_REQUIRE_KERNEL === '1') throw new Error(`${tool} is not installed (CAPC_REQUIRE_KERNEL=1)`);
  t.skip(`needs ${tool}`);
  return false;
}

/** USDT tests need sys/sdt.h (systemtap-sdt-dev): without it the workload has no USDT probes. */
export function requireSdt(t: TestContext): boolean {
  if (
    [
      '/usr/include/sys/sdt.h',
      '/usr/include/x86_64-linux-gnu/sys/sdt.h',
      '/usr/include/aarch64-linux-gnu/sys/sdt.h',
    ].some((f) => fs.existsSync(f))
  )
    return true;
  if (process.env.CAPC_REQUIRE_KERNEL === '1')
    throw new Error('sys/sdt.h is missing: apt-get install systemtap-sdt-dev (CAPC_REQUIRE_KERNEL=1)');
  t.skip('needs sys/sdt.h (apt-get install systemtap-sdt-dev)');
  return false;
}
