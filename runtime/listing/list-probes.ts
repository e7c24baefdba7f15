// runtime/listing/list-probes.ts — the probes a pattern names, as `capc list`
// (bpftrace -l) prints them: one `provider:...` line each, sorted; with
// verbose, the arguments of each below it, indented by four spaces
// (tracepoint fields from tracefs; raw tracepoint and fentry arguments from
// BTF; uprobe parameters from the binary's DWARF; USDT argument counts from
// the notes). With a pid (-p), uprobe and USDT patterns without a binary name
// that process's executable, as bpftrace does: /proc/PID/root/PATH, which is
// right in any mount namespace. xdp:* and tc:* (capc's own, not bpftrace's)
// list the network interfaces of the namespace capc runs in.
import fs from 'node:fs';
import { HARDWARE_EVENTS, PROBE_ALIASES, SOFTWARE_EVENTS, globToRegExp, type BtfParam } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import type { SystemHost } from '../host/system-host.js';

export interface Listed {
  name: string;
  details: string[];
}

const param = (p: BtfParam, i: number) => `    ${p.type} ${p.name || `arg${i}`}`;

/** Split `provider:rest` where the provider may be an alias; a bare glob means every tracepoint. */
function splitPattern(pattern: string): { provider: string; rest: string[] } {
  const parts = splitColons(pattern);
  const provider = PROBE_ALIASES[parts[0]!];
  if (provider && parts.length > 1) return { provider, rest: parts.slice(1) };
  // `sched:*` or `*sleep*`: tracepoints (bpftrace 0.17 also searches kprobes; this kernel has none).
  return { provider: 'tracepoint', rest: parts.length === 1 ? ['*', parts[0]!] : parts };
}

/** Split on `:` outside double quotes (paths may contain colons when quoted). */
function splitColons(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ':' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function listProbes(host: SystemHost, pattern: string, verbose: boolean, pid?: number): Listed[] {
  if (pid !== undefined && !fs.existsSync(`/proc/${pid}`))
    throw new CapcError('E0902', `no process with pid ${pid}`, ['check the pid with: ps -p PID']);
  // -p PID alone: the process's functions and USDT probes (bpftrace -l -p).
  if (!pattern && pid !== undefined)
    return [...listProbes(host, 'uprobe:*', verbose, pid), ...listProbes(host, 'usdt:*', verbose, pid)];
  const { provider, rest } = splitPattern(pattern || '*');
  const re = (g: string | undefined) => globToRegExp(g || '*');
  switch (provider) {
    case 'tracepoint': {
      const [cat, name] = rest.length >= 2 ? rest : ['*', rest[0]];
      const out: Listed[] = [];
      // ftrace's own events are not attachable tracepoints (bpftrace leaves them out too).
      for (const c of host.tracepointCategories().filter((x) => re(cat).test(x) && x !== 'ftrace')) {
        for (const n of host.tracepointNames(c).filter((x) => re(name).test(x))) {
          const f = verbose ? host.tracepoint(c, n) : undefined;
          out.push({
            name: `tracepoint:${c}:${n}`,
            details: f
              ? f.fields.map(
                  (x) => `    ${x.type.replace(/\[(\d*)\]$/, '')} ${x.name}${/\[(\d*)\]$/.exec(x.type)?.[0] ?? ''}`,
                )
              : [],
          });
        }
      }
      return sorted(out);
    }
    case 'rawtracepoint': {
      const g = re(rest[rest.length - 1]);
      return sorted(
        host
          .rawTracepointNames()
          .filter((n) => g.test(n))
          .map((n) => ({
            name: `rawtracepoint:${n}`,
            details: verbose ? (host.rawTracepointArgs(n) ?? []).map(param) : [],
          })),
      );
    }
    case 'uprobe':
    case 'uretprobe': {
      const [target, func = '*'] = rest.length === 1 && pid !== undefined ? ['', rest[0]] : rest;
      const path = resolve(host, target, pid);
      const syms = host.functionSymbols(path);
      if (!syms.ok) throw new CapcError('E0406', syms.error);
      const g = re(func);
      // -v: each function's parameters from the binary's DWARF (none without -g), as bpftrace -lv prints them.
      const params = (f: string) =>
        verbose ? (host.dwarfFunction(path, f) ?? []).map((p) => `    ${p.text ?? '?'} ${p.name}`) : [];
      return sorted(
        [...new Set(syms.value)]
          .filter((f) => g.test(f))
          .map((f) => ({ name: `${provider}:${path}:${f}`, details: params(f) })),
      );
    }
    case 'usdt': {
      const [target, a = '*', b] = rest.length <= 2 && pid !== undefined ? ['', ...rest] : rest;
      const path = resolve(host, target, pid);
      const probes = host.usdtProbes(path);
      if (!probes.ok) throw new CapcError('E0406', probes.error);
      const [pg, ng] = b === undefined ? [re('*'), re(a)] : [re(a), re(b)];
      const seen = new Set<string>();
      const out: Listed[] = [];
      for (const p of probes.value) {
        const name = `usdt:${path}:${p.provider}:${p.name}`;
        if (!pg.test(p.provider) || !ng.test(p.name) || seen.has(name)) continue;
        seen.add(name);
        out.push({
          name,
          details: verbose
            ? Array.from({ length: p.args }, (_, i) => `    arg${i}`).concat(p.semaphore ? ['    (semaphore)'] : [])
            : [],
        });
      }
      return sorted(out);
    }
    case 'kprobe':
    case 'kretprobe':
    case 'fentry':
    case 'fexit': {
      const g = re(rest[rest.length - 1]);
      const names = provider.startsWith('f') ? (host.btf()?.functionNames() ?? []) : host.kernelFunctions();
      return sorted(
        [...new Set(names)]
          .filter((n) => g.test(n))
          .map((n) => {
            const proto = verbose && provider.startsWith('f') ? host.kernelFunctionProto(n) : undefined;
            return {
              name: `${provider}:${n}`,
              details: proto ? [...proto.params.map(param), `    ${proto.ret.type} retval`] : [],
            };
          }),
      );
    }
    case 'xdp':
    case 'tc': {
      // Interfaces of this network namespace; -v adds each one's index (what pkt.ifindex reads).
      const g = re(rest[0]);
      const dirs =
        provider === 'tc' ? [':ingress', ':egress'].filter((d) => !rest[1] || re(rest[1]).test(d.slice(1))) : [''];
      return sorted(
        host
          .netInterfaces()
          .filter((n) => g.test(n))
          .flatMap((n) =>
            dirs.map((d) => ({
              name: `${provider}:${n}${d}`,
              details: verbose ? [`    ifindex ${ifindexOf(n)}`] : [],
            })),
          ),
      );
    }
    case 'software':
    case 'hardware': {
      const g = re(rest[0]);
      return (provider === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS)
        .filter((e) => g.test(e.name) || (e.alias !== undefined && g.test(e.alias)))
        .map((e) => ({
          name: `${provider}:${e.name}:`,
          details: verbose ? [`    every ${e.period} events by default`] : [],
        }));
    }
    case 'watchpoint':
      return [{ name: 'watchpoint:ADDRESS:LENGTH:MODE', details: [] }];
    case 'interval':
    case 'profile':
      return [
        { name: `${provider}:s:N`, details: [] },
        { name: `${provider}:ms:N`, details: [] },
        { name: `${provider}:us:N`, details: [] },
        { name: `${provider}:hz:N`, details: [] },
      ];
    default:
      return [{ name: provider, details: [] }];
  }
}

function ifindexOf(name: string): string {
  try {
    return fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function resolve(host: SystemHost, target: string | undefined, pid?: number): string {
  if ((!target || target === '*') && pid !== undefined) {
    try {
      return `/proc/${pid}/root${fs.readlinkSync(`/proc/${pid}/exe`)}`;
    } catch (e) {
      throw new CapcError('E0902', `cannot read the executable of pid ${pid}: ${(e as Error).message}`);
    }
  }
  if (!target) throw new CapcError('E0904', 'name the binary: capc list uprobe:BINARY:* or usdt:BINARY:*');
  const r = host.resolveBinary(target.replace(/^"|"$/g, ''));
  if (!r.ok)
    throw new CapcError(
      'E0406',
      r.error,
      r.candidates.length ? [`candidates: ${r.candidates.slice(0, 5).join(', ')}`] : [],
    );
  return r.value;
}

function sorted(xs: Listed[]): Listed[] {
  return xs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
