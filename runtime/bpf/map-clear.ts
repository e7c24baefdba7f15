// runtime/bpf/map-clear.ts — empties a user map from userspace (the terminal
// UI's `c` key): every key is collected first, then deleted, so deleting does
// not disturb the key walk. Bounded by max_entries; entries the kernel adds
// meanwhile stay (they are new data, not stale).
import type { ManifestMap } from '../../compiler/index.js';
import { native } from '../ffi/libbpf.js';

/** Delete every entry of one map; returns how many were deleted. */
export function clearMap(fd: number, m: ManifestMap): number {
  const n = native();
  const keySize = m.key ? m.key.size : 8;
  const keys: Buffer[] = [];
  let prev: Buffer | null = null;
  for (let i = 0; i <= m.maxEntries; i++) {
    const next = Buffer.alloc(keySize);
    if (n.map_get_next_key(fd, prev, next) !== 0) break;
    keys.push(next);
    prev = next;
  }
  let deleted = 0;
  for (const k of keys) if (n.map_delete_elem(fd, k) === 0) deleted++;
  return deleted;
}
