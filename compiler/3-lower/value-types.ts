// compiler/3-lower/value-types.ts — the manifest's description of a record,
// tuple or array value (ValueType): every field's name, offset and type, down
// to integers and strings, so the runtime prints what the kernel side copied
// without knowing any C. Records are expanded through the type table (their
// anonymous members flattened, as bpftrace prints them); pointers inside are
// integers.
import type { TypeTable } from '../2-analyze/type-table.js';
import { sizeOf, tupleLayout, typeName, type Type } from '../2-analyze/types.js';
import type { ValueType } from '../manifest.js';

/** How deep records nest in one printed value (a struct holding itself by value is impossible; this bounds pathologies). */
const MAX_DEPTH = 16;

export function valueTypeOf(t: Type, table: TypeTable, depth = 0): ValueType {
  if (depth > MAX_DEPTH) throw new Error(`internal: ${typeName(t)} nests deeper than ${MAX_DEPTH} levels`);
  switch (t.k) {
    case 'int':
      return { t: 'int', size: t.bytes, signed: t.to ? false : t.signed };
    case 'str':
      return { t: 'str', size: t.size };
    case 'array':
      return { t: 'array', size: sizeOf(t), count: t.count, elem: valueTypeOf(t.elem, table, depth + 1) };
    case 'tuple': {
      const { offsets, size } = tupleLayout(t.elems);
      return {
        t: 'tuple',
        size,
        elems: t.elems.map((e, i) => ({ offset: offsets[i]!, type: valueTypeOf(e, table, depth + 1) })),
      };
    }
    case 'record':
      return {
        t: 'record',
        size: t.size,
        fields: table.allFields(t).map((f) => {
          let type = valueTypeOf(f.type, table, depth + 1);
          if (f.bitSize && type.t === 'int') type = { ...type, bits: { offset: f.bitOffset ?? 0, size: f.bitSize } };
          return { name: f.name, offset: f.offset, type };
        }),
      };
    default:
      throw new Error(`internal: ${typeName(t)} has no value layout`);
  }
}
