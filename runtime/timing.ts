// runtime/timing.ts — phase timings for `CAPC_TIMING=1`: where start-up and
// shutdown time goes (compile, clang, load, attach, detach). Printed to stderr.
const enabled = !!process.env.CAPC_TIMING;

// performance (perf_hooks) is loaded only when timings are asked for.
let last = enabled ? performance.now() : 0;

export function mark(what: string): void {
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(
    `[capc timing] ${what}: +${(now - last).toFixed(1)} ms (at ${now.toFixed(1)} ms since process start)\n`,
  );
  last = now;
}
