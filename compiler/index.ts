// compiler/index.ts — the contract between the compiler and the runtime: the
// only compiler module the runtime imports (tests/unit/import-rules.test.ts
// enforces it). It holds what the runtime may rely on: the manifest (a
// compiled program's probes, maps, record layouts, formats), the Host
// interface the runtime implements for the compiler, the names `capc list`
// shares with probe resolution, the TLS stacks capc knows (runtime/tls/
// looks for them in binaries), and the compiler itself — loaded on demand,
// so a run served from the compile cache never loads the parser or the
// passes. Diagnostics are shared through diagnostics/, not through here.

export * from './manifest.js';
export type * from './host.js';
export type { CompileOptions, CompileResult } from './compile.js';
export type { PassName } from './passes.js';
export { closest } from './diagnostics/diagnostic.js';
export { globToRegExp } from './2-analyze/probe-match.js';
export { ALIASES as PROBE_ALIASES } from './2-analyze/probes.js';
export { HARDWARE_EVENTS, SOFTWARE_EVENTS } from './2-analyze/probes-perf.js';
/** --tracepoints: how syscall tracepoints attach (perf events or raw tracepoints). */
export { TRACEPOINT_FORMS } from './2-analyze/syscall-form.js';
/** The TLS stacks capc knows (stdlib/signatures.ts): runtime/tls/ recognises them in binaries and attaches by family. */
export {
  FAMILIES,
  captureFunctions,
  closeFunctions,
  identityFunctions,
  type FamilyName,
} from '../stdlib/signatures.js';

/** The compiler's passes (compile.ts), loaded on first use: chevrotain and the passes cost ~60 ms to load. */
export const loadCompiler = (): Promise<typeof import('./compile.js')> => import('./compile.js');
