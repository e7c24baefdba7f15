// runtime/host/cgroups.ts — cgroups as bpftrace names them: a cgroup's id
// is the inode of its directory in a cgroup filesystem (cgroupid("/sys/fs/
// cgroup/unified/user.slice")), and an id's paths are found by walking every
// cgroup hierarchy mounted (cgroup_path(): `unified:/user.slice,cpu:/...`,
// the cgroup2 hierarchy first, then the v1 ones by name).
import fs from 'node:fs';
import path from 'node:path';
import type { Resolved } from '../../compiler/index.js';
import { checkPath, explainDistrust } from '../files/trust.js';

interface Hierarchy {
  /** `unified` for cgroup2, the mount directory's name for v1 (cpu, memory, systemd...). */
  name: string;
  root: string;
}

/** The cgroup hierarchies mounted, from /proc/mounts: cgroup2 first, then v1 by name. */
export function hierarchies(mounts = '/proc/mounts'): Hierarchy[] {
  let text = '';
  try {
    text = fs.readFileSync(mounts, 'utf8');
  } catch {
    return [];
  }
  const out: Hierarchy[] = [];
  for (const line of text.split('\n')) {
    const [dev, root, type] = line.split(' ');
    if (!dev || !root || (type !== 'cgroup' && type !== 'cgroup2')) continue;
    out.push({ name: type === 'cgroup2' ? 'unified' : path.basename(root), root: root.replace(/\\040/g, ' ') });
  }
  return out.sort((a, b) =>
    a.name === b.name ? 0 : a.name === 'unified' ? -1 : b.name === 'unified' ? 1 : a.name < b.name ? -1 : 1,
  );
}

/** The path of cgroup `id` under `root` (`/` for the root itself), or '' when it is not there. */
function pathIn(root: string, id: bigint, cache: Map<string, string>): string {
  const key = `${root}\0${id}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  let found = '';
  try {
    if (fs.statSync(root, { bigint: true }).ino === id) found = '/';
    else {
      // Breadth-first over directories only: cgroup trees are shallow and wide.
      let level = [root];
      while (level.length && !found) {
        const next: string[] = [];
        for (const dir of level) {
          let entries: fs.Dirent[];
          try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
          } catch {
            continue;
          }
          for (const e of entries) {
            if (!e.isDirectory()) continue;
            const p = path.join(dir, e.name);
            try {
              if (fs.statSync(p, { bigint: true }).ino === id) {
                found = p.slice(root.length);
                break;
              }
            } catch {
              continue;
            }
            next.push(p);
          }
          if (found) break;
        }
        level = next;
      }
    }
  } catch {
    /* an unreadable hierarchy names nothing */
  }
  cache.set(key, found);
  return found;
}

/**
 * cgroup_path(id, filter): `name:path` for every hierarchy whose name
 * matches the wildcard `filter`, joined by commas, as bpftrace prints it.
 */
export class CgroupPaths {
  private readonly cache = new Map<string, string>();
  private roots: Hierarchy[] | undefined;

  text(id: bigint, filter: string): string {
    this.roots ??= hierarchies();
    const re = new RegExp(`^${filter.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return this.roots
      .filter((h) => re.test(h.name))
      .map((h) => `${h.name}:${pathIn(h.root, id, this.cache)}`)
      .join(',');
  }
}

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

/**
 * cgroupid(path), as bpftrace resolves it: the inode of the cgroup's
 * directory, which is the cgroup's id (what `cgroup` gives in the kernel for
 * cgroup2). A path another user could re-point is refused, never followed.
 */
export function cgroupIdOf(p: string): Resolved<string> {
  const fail = (why: string): Resolved<string> => ({
    ok: false,
    error: `failed to get cgroupid for path "${p}": ${why}`,
    candidates: [],
  });
  const trust = checkPath(p, 'dir');
  if (trust.ok === 'missing') return fail('No such file or directory');
  if (!trust.ok) return fail(`not trusted: ${explainDistrust(trust.distrust)}`);
  try {
    const fsType = Number(fs.statfsSync(trust.real).type);
    if (fsType !== CGROUP2_SUPER_MAGIC && fsType !== CGROUP_SUPER_MAGIC)
      return fail(
        'not a directory of a cgroup filesystem (cgroup2 is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified)',
      );
    return { ok: true, value: fs.statSync(trust.real, { bigint: true }).ino.toString() };
  } catch (e) {
    return fail((e as Error).message);
  }
}
