// tests/support/ready.ts — waiting for a capc started by hand (spawn) to
// attach: the child is spawned with a pipe as its fd 3 and `--ready-fd 3`
// (or CAPC_READY_FD=3); capc writes `loaded IDS` and `attached` there.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** stdio for spawn: the three given, plus a pipe as fd 3 for --ready-fd 3. */
export function withReadyPipe(
  stdio: ['ignore' | 'pipe', 'ignore' | 'pipe', 'ignore' | 'pipe'],
): ['ignore' | 'pipe', 'ignore' | 'pipe', 'ignore' | 'pipe', 'pipe'] {
  return [...stdio, 'pipe'];
}

/** What capc said on its ready descriptor so far: the program ids it loaded, and whether it attached. */
export function readySaid(text: string): { ids: number[]; attached: boolean } {
  const ids = (/^loaded ([\d,]*)$/m.exec(text)?.[1] ?? '').split(',').filter(Boolean).map(Number);
  return { ids, attached: /^attached$/m.test(text) };
}

/** Resolves with the loaded program ids once capc said `attached`; rejects if it exits first. */
export function whenAttached(child: ChildProcess, what = 'capc'): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let said = '';
    (child.stdio[3] as Readable).on('data', (d) => {
      said += d;
      const now = readySaid(said);
      if (now.attached) resolve(now.ids);
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before attaching`)));
  });
}
