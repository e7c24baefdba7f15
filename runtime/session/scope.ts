// runtime/session/scope.ts — seeds the kernel's process-tree map (capc_scope)
// for -c/-p: the root process and every descendant alive now. The fork and
// exit programs are attached before this runs, so a process forked meanwhile
// is added by the kernel; later ones are too.
import fs from 'node:fs';
import { native } from '../ffi/libbpf.js';

/** Children of every process, from /proc/PID/stat (ppid is the 4th field). */
function childrenByParent(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = out.get(ppid) ?? [];
      list.push(Number(d));
      out.set(ppid, list);
    } catch {
      /* exited */
    }
  }
  return out;
}

/** Put `root` and its descendants in the scope map. Returns the pids added. */
export function seedScope(mapFd: number, root: number): number[] {
  const kids = childrenByParent();
  const added: number[] = [];
  const todo = [root];
  const one = Buffer.from([1]);
  while (todo.length) {
    const pid = todo.pop()!;
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid, 0);
    if (native().map_update_elem(mapFd, key, one, 0n) === 0) added.push(pid);
    todo.push(...(kids.get(pid) ?? []));
  }
  return added;
}
