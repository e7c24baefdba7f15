// runtime/bpf/maps-reader.ts — reads user maps and counters out of the
// kernel: walks keys, sums per-CPU values (R8), and decodes keys with the
// layouts from the manifest.
import type { ManifestMap } from '../../compiler/manifest.js';
import type { KeyPart, MapEntry, MapSnapshot } from '../events/model.js';
import { native } from '../ffi/libbpf.js';

let cpus: number | undefined;
export function possibleCpus(): number {
  cpus ??= native().num_possible_cpus() as number;
  return cpus;
}

/** Sum of 8-byte per-CPU values (each slot is rounded up to 8 bytes by the kernel). */
function sumPerCpu(buf: Buffer, signed: boolean): bigint {
  let total = 0n;
  for (let o = 0; o + 8 <= buf.length; o += 8) total += signed ? buf.readBigInt64LE(o) : buf.readBigUInt64LE(o);
  return total;
}

export function decodeKey(m: ManifestMap, key: Buffer): KeyPart[] {
  if (!m.key) return [];
  return m.key.fields.map((f) => {
    if (f.type === 'str') return key.subarray(f.offset, f.offset + f.size);
    switch (f.size) {
      case 1:
        return f.signed ? BigInt(key.readInt8(f.offset)) : BigInt(key.readUInt8(f.offset));
      case 2:
        return f.signed ? BigInt(key.readInt16LE(f.offset)) : BigInt(key.readUInt16LE(f.offset));
      case 4:
        return f.signed ? BigInt(key.readInt32LE(f.offset)) : BigInt(key.readUInt32LE(f.offset));
      default:
        return f.signed ? key.readBigInt64LE(f.offset) : key.readBigUInt64LE(f.offset);
    }
  });
}

export function readMap(fd: number, m: ManifestMap): MapSnapshot {
  const n = native();
  const keySize = m.key ? m.key.size : 8;
  const valueSize = m.perCpu ? 8 * possibleCpus() : m.valueSize;
  const entries: MapEntry[] = [];
  let prev: Buffer | null = null;
  const next = Buffer.alloc(keySize);
  const value = Buffer.alloc(valueSize);
  // Bounded by max_entries: a map that changes under us cannot loop forever.
  for (let i = 0; i <= m.maxEntries; i++) {
    if (n.map_get_next_key(fd, prev, next) !== 0) break;
    const key = Buffer.from(next);
    if (n.map_lookup_elem(fd, key, value) === 0) {
      entries.push({ key: decodeKey(m, key), value: m.perCpu ? sumPerCpu(value, m.valueSigned) : m.valueSigned ? value.readBigInt64LE(0) : value.readBigUInt64LE(0) });
    }
    prev = key;
  }
  return { name: m.name, kind: m.kind, keyed: !!m.key, entries };
}

/** One per-CPU u64 counter, summed over CPUs. */
export function readCounter(fd: number, index: number): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index, 0);
  const value = Buffer.alloc(8 * possibleCpus());
  if (native().map_lookup_elem(fd, key, value) !== 0) return 0n;
  return sumPerCpu(value, false);
}
