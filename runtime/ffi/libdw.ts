// runtime/ffi/libdw.ts — the typed binding over elfutils' libdw.so.1 (Debian's
// libdw1), the DWARF reader capc uses for the types of binaries built with -g
// and for the layouts clang gives the C definitions of a script. Only the
// calls runtime/host/dwarf.ts needs: walking compile units and DIEs, reading
// attributes. A Dwarf_Die (32 bytes) and a Dwarf_Attribute (24 bytes) are
// caller-owned buffers, as libdw.h declares them on 64-bit systems.
import koffi from './koffi.js';
import { CapcError } from '../errors.js';

/** sizeof(Dwarf_Die) and sizeof(Dwarf_Attribute) in libdw.h on LP64. */
export const DIE_SIZE = 32;
export const ATTR_SIZE = 24;

let loaded: ReturnType<typeof bind> | undefined;

/** The bound functions; loads libdw on first use (E0602 when it is missing). */
export function libdw(): ReturnType<typeof bind> {
  loaded ??= bind();
  return loaded;
}

function bind() {
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libdw.so.1');
  } catch (e) {
    throw new CapcError('E0602', `cannot load libdw.so.1: ${(e as Error).message.split('\n')[0]}`, [
      'install it: apt-get install libdw1',
    ]);
  }
  koffi.opaque('Dwarf');
  return {
    begin: lib.func('Dwarf *dwarf_begin(int fd, int cmd)'),
    end: lib.func('int dwarf_end(Dwarf *dw)'),
    nextcu: lib.func(
      'int dwarf_nextcu(Dwarf *dw, uint64 off, _Out_ uint64 *next, _Out_ uint64 *hdr, _Out_ uint64 *abbrev, _Out_ uint8 *addrsz, _Out_ uint8 *offsz)',
    ),
    offdie: lib.func('void *dwarf_offdie(Dwarf *dw, uint64 off, void *die)'),
    child: lib.func('int dwarf_child(void *die, void *result)'),
    siblingof: lib.func('int dwarf_siblingof(void *die, void *result)'),
    tag: lib.func('int dwarf_tag(void *die)'),
    diename: lib.func('const char *dwarf_diename(void *die)'),
    dieoffset: lib.func('uint64 dwarf_dieoffset(void *die)'),
    hasattr: lib.func('int dwarf_hasattr(void *die, unsigned int name)'),
    attrIntegrate: lib.func('void *dwarf_attr_integrate(void *die, unsigned int name, void *attr)'),
    formudata: lib.func('int dwarf_formudata(void *attr, _Out_ uint64 *val)'),
    formsdata: lib.func('int dwarf_formsdata(void *attr, _Out_ int64 *val)'),
    formrefDie: lib.func('void *dwarf_formref_die(void *attr, void *die)'),
    whatform: lib.func('unsigned int dwarf_whatform(void *attr)'),
  };
}

/** DWARF tags and attributes capc reads (DWARF 5, section 7.5). */
export const DW_TAG = {
  array_type: 0x01,
  enumeration_type: 0x04,
  formal_parameter: 0x05,
  member: 0x0d,
  pointer_type: 0x0f,
  compile_unit: 0x11,
  structure_type: 0x13,
  subroutine_type: 0x15,
  typedef: 0x16,
  union_type: 0x17,
  unspecified_parameters: 0x18,
  subrange_type: 0x21,
  base_type: 0x24,
  const_type: 0x26,
  enumerator: 0x28,
  subprogram: 0x2e,
  variable: 0x34,
  volatile_type: 0x35,
  restrict_type: 0x37,
  atomic_type: 0x47,
  partial_unit: 0x3c,
} as const;

export const DW_AT = {
  name: 0x03,
  byte_size: 0x0b,
  bit_offset: 0x0c,
  bit_size: 0x0d,
  const_value: 0x1c,
  upper_bound: 0x2f,
  count: 0x37,
  data_member_location: 0x38,
  declaration: 0x3c,
  encoding: 0x3e,
  specification: 0x47,
  type: 0x49,
  data_bit_offset: 0x6b,
} as const;

/** DW_ATE_* base type encodings. */
export const DW_ATE = {
  boolean: 0x02,
  float: 0x04,
  signed: 0x05,
  signed_char: 0x06,
  unsigned: 0x07,
  unsigned_char: 0x08,
} as const;
