// runtime/ffi/koffi.ts — koffi, loaded for the rest of runtime/ffi. Its
// index.js first runs its installer's helpers, which require https, zlib and
// crypto (~5 ms of every start, none of it used here); where koffi ships a
// prebuilt module for this platform, that module is loaded directly, as
// index.js itself would load it (the same file in the same package, checked
// to be of the same version). Elsewhere (musl, arm, riscv: index.js tells
// them apart by reading node's ELF header) it is koffi's index.js.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';

const nodeRequire = createRequire(import.meta.url);

/** The platforms whose koffi module is named by process.platform and process.arch alone. */
const DIRECT = new Set(['linux_x64', 'linux_arm64', 'linux_ia32', 'linux_loong64']);

function load(): typeof Koffi {
  const triplet = `${process.platform}_${process.arch}`;
  if (DIRECT.has(triplet)) {
    try {
      const native = nodeRequire(`koffi/build/koffi/${triplet}/koffi.node`) as typeof Koffi & { version?: string };
      if (native.version === (nodeRequire('koffi/package.json') as { version: string }).version) return native;
    } catch {
      /* not this libc, or not there: koffi's index.js knows */
    }
  }
  return nodeRequire('koffi') as typeof Koffi;
}

const koffi = load();
export default koffi;
