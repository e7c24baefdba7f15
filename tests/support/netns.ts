// tests/support/netns.ts — two network namespaces joined by a veth pair, made
// for one test and removed after it (and on failure): names unique per run,
// addresses private to the pair (10.77.0.1/24 and .2 with fd77::1/64 and ::2,
// in namespaces nobody else uses). Traffic only ever flows between the two.
// A pair the test did not remove (a test process ended by SIGTERM or SIGINT,
// or exiting before its finally ran) is removed, by name, as the process exits.
// ip(8) from iproute2; `ip netns exec` mounts the namespace's own /sys, so the
// counters read there are the pair's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';

export interface Side {
  ns: string;
  dev: string;
  ip4: string;
  ip6: string;
}

export interface VethPair {
  a: Side;
  b: Side;
  /** Run a command in a namespace, wait for it, return its stdout. */
  exec(side: Side, cmd: string, args: string[], timeoutMs?: number): string;
  /** Start a command in a namespace (the caller stops it, by its pid). */
  start(side: Side, cmd: string, args: string[]): ChildProcess;
  /** The interface's kernel counter, e.g. rx_packets, tx_bytes. */
  counter(side: Side, name: string): number;
  /** `ip link show` of the interface (shows an attached XDP program). */
  link(side: Side): string;
  destroy(): void;
}

const ip = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Pairs made by this process and not destroyed yet. */
const live = new Set<VethPair>();

function destroyLive(): void {
  for (const p of [...live]) p.destroy();
}

let registered = false;

function cleanUpOnExit(): void {
  if (registered) return;
  registered = true;
  process.on('exit', destroyLive);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      destroyLive();
      // Alone, this handler took the signal's default action away: raise it again (once: it is gone now).
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
}

export function createVethPair(opts: { ipv6?: boolean } = {}): VethPair {
  const id = crypto.randomBytes(3).toString('hex');
  const a: Side = { ns: `capc-${id}-a`, dev: `cpk${id}a`, ip4: '10.77.0.1', ip6: 'fd77::1' };
  const b: Side = { ns: `capc-${id}-b`, dev: `cpk${id}b`, ip4: '10.77.0.2', ip6: 'fd77::2' };
  const pair: VethPair = {
    a,
    b,
    exec(side, cmd, args, timeoutMs = 30000) {
      return execFileSync('ip', ['netns', 'exec', side.ns, cmd, ...args], {
        encoding: 'utf8',
        timeout: timeoutMs,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    start(side, cmd, args) {
      return spawn('ip', ['netns', 'exec', side.ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
    counter(side, name) {
      return Number(pair.exec(side, 'cat', [`/sys/class/net/${side.dev}/statistics/${name}`]).trim());
    },
    link(side) {
      return ip(['-n', side.ns, 'link', 'show', 'dev', side.dev]);
    },
    destroy() {
      live.delete(pair);
      for (const s of [a, b]) {
        try {
          ip(['netns', 'del', s.ns]); // removes its end of the pair, and so the pair
        } catch {
          /* already gone */
        }
      }
    },
  };
  live.add(pair);
  cleanUpOnExit();
  try {
    ip(['netns', 'add', a.ns]);
    ip(['netns', 'add', b.ns]);
    ip(['link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns]);
    for (const s of [a, b]) {
      if (!opts.ipv6) pair.exec(s, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      ip(['-n', s.ns, 'addr', 'add', `${s.ip4}/24`, 'dev', s.dev]);
      if (opts.ipv6) ip(['-n', s.ns, 'addr', 'add', `${s.ip6}/64`, 'dev', s.dev, 'nodad']);
      ip(['-n', s.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', s.ns, 'link', 'set', s.dev, 'up']);
    }
  } catch (e) {
    pair.destroy();
    throw e;
  }
  return pair;
}

/** ip(8) is there and this process may create namespaces (root). */
export function netnsSkipReason(): string | undefined {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs ip from iproute2 (apt-get install iproute2)';
  }
  try {
    execFileSync('ping', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs ping (apt-get install iputils-ping)';
  }
  return undefined;
}
