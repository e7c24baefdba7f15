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

/** Resolves with the loaded program ids once capc said `attached`; rejects if it exits first. */
export function whenAttached(child: ChildProcess, what = 'capc'): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let said = '';
    (child.stdio[3] as Readable).on('data', (d) => {
      said += d;
      if (said.includes('attached\n'))
        resolve((/^loaded ([\d,]*)$/m.exec(said)?.[1] ?? '').split(',').filter(Boolean).map(Number));
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before attaching`)));
  });
}
