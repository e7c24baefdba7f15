// runtime/cli/signals.ts — what Ctrl-C/SIGTERM/SIGHUP do outside a session:
// while capc is still compiling, stop at once (exit 130); once a session has
// ended and capc is printing its last output and exiting, ignore them, so a
// second Ctrl-C can never cut the output short. During a session the session
// handles them itself (stop, END, maps, detach).
type Phase = 'startup' | 'session' | 'done';
let phase: Phase = 'startup';
let installed = false;

export function installCliSignals(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]) {
    process.on(sig, () => {
      if (phase === 'startup') process.exit(130);
      // 'session': the session's own handler acts; 'done': ignored.
    });
  }
}

export function setSignalPhase(p: Phase): void {
  phase = p;
}
