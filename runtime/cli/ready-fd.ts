// runtime/cli/ready-fd.ts — telling whoever started capc that it is ready:
// `--ready-fd N` (or CAPC_READY_FD=N, for wrappers and `#!` tools that take
// no extra option) names a file descriptor capc inherited, usually a pipe.
// capc writes `loaded ID,ID,...` there once its programs are in the kernel
// (their ids, as `bpftool prog show` lists them) and `attached` once every
// probe is attached and a -c command is about to be released, then closes
// it. Scripts start their workload on `attached` instead of sleeping; tests
// also check that the loaded ids are gone after capc exits. Nothing is
// opened by name: the descriptor is one the parent handed over (Node makes
// it close-on-exec, so a -c command does not inherit it).
import fs from 'node:fs';
import { CapcError } from '../errors.js';

/** The descriptor's open flags (/proc/self/fdinfo), or undefined when it is not open. */
function fdFlags(fd: number): number | undefined {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

/** Is this descriptor capc's own: an anonymous inode, or a pipe or socket whose other end capc holds too? */
function ownDescriptor(fd: number): boolean {
  const target = (n: number) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      return undefined;
    }
  };
  const t = target(fd);
  if (!t || t.startsWith('anon_inode:')) return true;
  if (!/^(pipe|socket):/.test(t)) return false;
  // Stdin, stdout and stderr may be the same pipe (`3>&1`); another descriptor of capc's may not.
  return fs
    .readdirSync('/proc/self/fd')
    .map(Number)
    .some((n) => n > 2 && n !== fd && target(n) === t);
}

export interface ReadyNotifier {
  loaded(programIds: number[]): void;
  attached(): void;
}

/** The notifier for `--ready-fd` (else CAPC_READY_FD), or none; E0904 when the value is not an open descriptor. */
export function readyNotifier(option: string | undefined): ReadyNotifier | undefined {
  const fromEnv = option === undefined;
  const value = option ?? process.env.CAPC_READY_FD;
  // Not passed on to the -c command (nor to a capc it might run).
  delete process.env.CAPC_READY_FD;
  if (value === undefined || value === '') return undefined;
  const what = fromEnv ? `CAPC_READY_FD=${value}` : `--ready-fd ${value}`;
  if (!/^\d{1,9}$/.test(value)) throw new CapcError('E0904', `${what}: not a file descriptor number`);
  const fd = Number(value);
  if (fd <= 2) throw new CapcError('E0904', `${what}: 0, 1 and 2 are capc's input and output; pass 3 or above`);
  // Only a descriptor handed over open for writing: never one of Node's own (its event loop's epoll and
  // eventfd, the pipes libuv keeps both ends of), which a mistyped number could name.
  const flags = fdFlags(fd);
  const handOver = ['the process starting capc must hand it over, e.g. `capc run --ready-fd 3 ... 3>ready.txt`'];
  if (flags === undefined) throw new CapcError('E0904', `${what}: file descriptor ${fd} is not open`, handOver);
  if ((flags & 3) === 0 || ownDescriptor(fd))
    throw new CapcError('E0904', `${what}: file descriptor ${fd} was not handed to capc open for writing`, handOver);
  let open = true;
  const write = (line: string): void => {
    if (!open) return;
    try {
      fs.writeSync(fd, line);
    } catch {
      // The reader went away: that is its business, not a reason to stop tracing.
      open = false;
    }
  };
  return {
    loaded: (ids) => write(`loaded ${ids.join(',')}\n`),
    attached: () => {
      write('attached\n');
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
