// runtime/host/kallsyms.ts — kernel function names from /proc/kallsyms (text
// symbols), for kprobe/fentry targets and `capc list kprobe:`. Read once.
import fs from 'node:fs';

let cache: string[] | undefined;

export function kernelFunctions(file = '/proc/kallsyms'): string[] {
  if (cache) return cache;
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return (cache = []);
  }
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    // ffffffff816b7430 t do_sys_openat2 [module]
    const sp1 = line.indexOf(' ');
    const type = line[sp1 + 1];
    if (type !== 't' && type !== 'T') continue;
    const rest = line.slice(sp1 + 3);
    const end = rest.search(/[\s\t]/);
    const name = end < 0 ? rest : rest.slice(0, end);
    if (name && !name.startsWith('__pfx_')) names.add(name);
  }
  return (cache = [...names].sort());
}
