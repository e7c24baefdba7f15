// compiler/builtins/int-functions.ts — small integer functions: kaddr("sym")
// (a kernel symbol's address, resolved by libbpf at load), bswap(n), and
// uptr(n)/kptr(n) (n as a pointer into user or kernel memory). One table
// entry each (builtin.ts).
import { inSpace, isInt, typeName, type AddressSpace } from '../2-analyze/types.js';
import { addr, call, cast, id } from '../3-lower/c-ir.js';
import { defineBuiltin } from './builtin.js';

/** kaddr("sym"): the address of a kernel symbol, resolved by libbpf when the program loads (`__ksym`). */
export const KADDR = defineBuiltin<{ symbol: string }, { symbol: string; found: boolean }>({
  name: 'kaddr',
  usage: 'kaddr("symbol")',
  doc: 'kaddr("symbol"): the address of a kernel symbol',
  arity: [1, 1],
  lookUp: (symbol, _inst, host) => ({ symbol, found: host.kernelSymbolExists(symbol) }),
  check(e, cx, checkExpr, found) {
    const a = e.args[0]!;
    checkExpr(a, cx);
    if (a.kind !== 'Str' || !found) {
      cx.bag.add('E0302', 'kaddr() needs a symbol name as a string literal', a.span, 'kaddr("avenrun")');
      return undefined;
    }
    if (!found.found || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(found.symbol)) {
      cx.bag.add(
        'E0407',
        `kernel symbol '${found.symbol}' not found`,
        a.span,
        'kaddr() looks names up in /proc/kallsyms; data symbols are listed only with CONFIG_KALLSYMS_ALL',
      );
      return undefined;
    }
    return { type: { k: 'int', bytes: 8, signed: false, space: 'kernel' }, data: { symbol: found.symbol } };
  },
  lowerInt(b, _e, { symbol }) {
    b.res.kernelSymbols.add(symbol);
    return { e: cast('__u64', addr(id(symbol))), unsigned: true };
  },
});

/** bswap(n): the bytes of n reversed, at n's width (a literal is 64-bit, as in bpftrace 0.17). */
export const BSWAP = defineBuiltin<{ bytes: 1 | 2 | 4 | 8 }>({
  name: 'bswap',
  usage: 'bswap(n)',
  doc: 'bswap(n): n with its bytes reversed',
  arity: [1, 1],
  check(e, cx, checkExpr) {
    const t = checkExpr(e.args[0]!, cx);
    if (t.k === 'error') return undefined;
    if (!isInt(t)) {
      cx.bag.add('E0302', `bswap() needs an integer, not ${typeName(t)}`, e.args[0]!.span);
      return undefined;
    }
    const bytes = t.literal ? 8 : t.bytes;
    return { type: { k: 'int', bytes, signed: false }, data: { bytes } };
  },
  lowerInt(b, e, { bytes }) {
    const v = b.lowerers.int(b, e.args[0]!);
    const t = `__u${bytes * 8}`;
    if (bytes === 1) return { e: cast('__u64', cast(t, v.e)), unsigned: true };
    return { e: cast('__u64', call(`__builtin_bswap${bytes * 8}`, cast(t, v.e))), unsigned: true };
  },
});

/** `kptr(e)` / `uptr(e)`: the address `e` points into kernel / user memory. */
function spaceCall(name: 'uptr' | 'kptr', space: AddressSpace) {
  return defineBuiltin<null>({
    name,
    usage: `${name}(address)`,
    doc: `${name}(n): n as a ${space === 'user' ? 'user-space' : 'kernel'} pointer`,
    arity: [1, 1],
    checkArgsOnArityError: true,
    check(e, cx, checkExpr) {
      const t = checkExpr(e.args[0]!, cx);
      if (t.k === 'error') return undefined;
      if (!isInt(t)) {
        cx.bag.add('E0302', `${name}() needs an address, not ${typeName(t)}`, e.args[0]!.span);
        return undefined;
      }
      const to = t.to && inSpace(t.to, space);
      return { type: { k: 'int', bytes: 8, signed: false, space, to, spaceSet: true }, data: null };
    },
    lowerInt: (b, e) => b.lowerers.int(b, e.args[0]!),
  });
}

export const UPTR = spaceCall('uptr', 'user');
export const KPTR = spaceCall('kptr', 'kernel');
