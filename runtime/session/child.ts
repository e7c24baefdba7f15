// runtime/session/child.ts — the `-c CMD` child. It is started before the
// probes are loaded (so its pid is known to the program as `cpid`) but held
// on a pipe until everything is attached, then released; exec keeps its pid.
// CMD is split like a shell would split words (quotes, backslashes) but run
// directly, without a shell, so cpid is the command itself.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CapcError } from '../errors.js';

/** Split a command line into words: '...' literal, "..." with \\ escapes, \\ outside quotes. */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (ch === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new CapcError('E0904', `unterminated ' in -c command: ${cmd}`);
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) {
        if (cmd[j] === '\\' && j + 1 < cmd.length && '"\\$`'.includes(cmd[j + 1]!)) j++;
        cur += cmd[j];
      }
      if (j >= cmd.length) throw new CapcError('E0904', `unterminated " in -c command: ${cmd}`);
      i = j;
      inWord = true;
    } else if (ch === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [path.resolve(name)]
    : (process.env.PATH ?? '/usr/bin:/bin').split(':').map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

export class HeldChild {
  private readonly proc: ChildProcess;
  readonly pid: number;
  exited = false;
  exitCode: number | null = null;
  private readonly exitPromise: Promise<void>;

  private constructor(
    proc: ChildProcess,
    /** The executable the command will exec (found on PATH as the shell will find it). */
    readonly file: string,
  ) {
    this.proc = proc;
    this.pid = proc.pid!;
    this.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    });
  }

  /** `output`, when given, receives the command's stdout and stderr (and it gets no terminal input): the terminal UI owns the terminal. */
  static start(command: string, output?: (data: Buffer) => void): HeldChild {
    const argv = splitCommand(command);
    if (!argv.length) throw new CapcError('E0904', '-c needs a command');
    const file = findExecutable(argv[0]!);
    if (!file)
      throw new CapcError('E0903', `Failed to fork child: path '${argv[0]}' does not exist or is not executable`, [
        'give a path, or a program on PATH; -c runs it directly, without a shell (use -c "sh -c \'a | b\'" for pipelines)',
      ]);
    // The shell waits for one line on fd 3, closes it, then becomes the command.
    const stdio = output
      ? (['ignore', 'pipe', 'pipe', 'pipe'] as const)
      : (['inherit', 'inherit', 'inherit', 'pipe'] as const);
    const proc = spawn('/bin/sh', ['-c', 'read -r _ <&3; exec 3<&-; exec "$@"', 'capc-child', ...argv], {
      stdio: [...stdio],
    });
    if (!proc.pid) throw new CapcError('E0903', `could not start ${argv[0]}`);
    if (output) {
      proc.stdout?.on('data', output);
      proc.stderr?.on('data', output);
    }
    return new HeldChild(proc, file);
  }

  /** Let the command run. */
  release(): void {
    const gate = this.proc.stdio[3] as NodeJS.WritableStream | null;
    gate?.write('\n');
    gate?.end();
  }

  wait(): Promise<void> {
    return this.exitPromise;
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGTERM');
  }
}
