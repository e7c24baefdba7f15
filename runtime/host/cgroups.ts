// runtime/host/cgroups.ts — cgroups as bpftrace names them: a cgroup's id
// is the inode of its directory in a cgroup filesystem (cgroupid("/sys/fs/
// cgroup/unified/user.slice")), and an id's paths are found by walking every
// cgroup hierarchy mounted (cgroup_path(): `unified:/user.slice,cpu:/...`,
// the cgroup2 hierarchy first, then the v1 ones by name).
import fs from 'node:fs';
import path from 'node:path';

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
