// runtime/tls/classify.ts — which TLS stacks an ELF file holds, by its
// symbols: a shared library (libssl, libgnutls, NSS's libnspr4 beside
// libssl3), OpenSSL or BoringSSL linked into a program (node, envoy), or Go's
// crypto/tls (with the Go version, which decides the ABI). What cannot be
// probed is said, with what was tried: a stripped program with OpenSSL inside
// (its version string is there, its functions are not), a Go program older
// than the register ABI, a library missing the functions capc needs.
// Results are cached by device, inode, size and modification time.
import fs from 'node:fs';
import path from 'node:path';
import {
  captureFunctions,
  closeFunctions,
  FAMILIES,
  identityFunctions,
  type FamilyName,
} from '../../compiler/index.js';
import { readAt, readSections } from '../symbols/elf.js';
import { readDynamic } from '../symbols/elf-dynamic.js';
import { findFunctionSymbols } from '../symbols/elf-symbols.js';
import { goBinaryInfo, goPclntabFunctions, goVersionNumber, isGoBinary } from '../symbols/go-binary.js';

/** One TLS stack in one file, and how to attach to it. */
export interface TlsStack {
  family: FamilyName;
  /** For people: "OpenSSL 3", "BoringSSL", "GnuTLS", "NSS", "Go crypto/tls go1.19.8". */
  name: string;
  /** The file the probes go on (the library, or the program it is linked into). */
  path: string;
  /** Linked into a program rather than a shared library. */
  builtIn: boolean;
  /** Capture, close and identity (SSL_set_fd) functions it has, with where they are (Go: from pclntab when stripped). */
  functions: Map<string, { addr: bigint; size: number; symbol: boolean }>;
  version?: string;
}

export interface Classification {
  stacks: TlsStack[];
  /** TLS capc found but cannot probe, with what it tried. */
  problems: string[];
  /** Shared libraries the file needs (DT_NEEDED), for programs that have not loaded them yet. */
  needed: string[];
  /** Where it asks the dynamic linker to look first (DT_RUNPATH / DT_RPATH, $ORIGIN resolved). */
  runpath: string[];
}

const cache = new Map<string, Classification>();

function fileKey(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** TLS library names, for "this looks like TLS but has none of its functions". */
const TLS_LIBRARY = /^(libssl\.so|libgnutls\.so|libnspr4\.so|libssl3\.so)/;

function flavor(family: FamilyName, names: Set<string>): string | undefined {
  for (const f of FAMILIES[family].flavors ?? []) if (names.has(f.symbol)) return f.name;
  return undefined;
}

/** Classify one ELF file (cached). Never throws: unreadable files have no stacks. */
export function classifyFile(file: string): Classification {
  const key = fileKey(file);
  const hit = key ? cache.get(`${file}\0${key}`) : undefined;
  if (hit) return hit;
  let result: Classification;
  try {
    result = classifyUncached(file);
  } catch (e) {
    result = { stacks: [], problems: [], needed: [], runpath: [] };
    void e;
  }
  if (key) cache.set(`${file}\0${key}`, result);
  return result;
}

function classifyUncached(file: string): Classification {
  const fd = fs.openSync(file, 'r');
  let sections;
  let isExec = false;
  try {
    sections = readSections(fd);
    isExec = readAt(fd, 0x10, 2).readUInt16LE(0) === 2; // ET_EXEC (static, non-PIE)
  } finally {
    fs.closeSync(fd);
  }
  const { needed, runpath } = readDynamic(file);
  const base = path.basename(file);
  if (isGoBinary(sections)) return classifyGo(file, sections, needed);
  const wantedNames = [
    ...(['openssl', 'gnutls', 'nss'] as const).flatMap((f) => [
      ...captureFunctions(f),
      ...closeFunctions(f),
      ...identityFunctions(f),
      ...(FAMILIES[f].flavors ?? []).map((x) => x.symbol),
    ]),
  ];
  // A stack whose marks are all exported needs no static symbol table (only an unexported flavor symbol is lost).
  const enough = (['openssl', 'gnutls', 'nss'] as const).flatMap((f) => FAMILIES[f].marks);
  const dyn = findFunctionSymbols(file, wantedNames, sections, ['SSL_write', 'SSL_read']).found;
  const byName = [...enough].some((m) => dyn.has(m)) ? dyn : findFunctionSymbols(file, wantedNames, sections).found;
  const names = new Set(byName.keys());
  const stacks: TlsStack[] = [];
  const problems: string[] = [];
  const builtIn = !/\.so(\.|$)/.test(base);
  for (const family of ['openssl', 'gnutls', 'nss'] as const) {
    const marks = FAMILIES[family].marks;
    if (!marks.every((m) => names.has(m))) continue;
    // NSPR's PR_Write is every NSPR program's I/O; it is TLS only where NSS's libssl3 is.
    if (family === 'nss' && !/^libnspr4\.so/.test(base)) continue;
    const functions = new Map<string, { addr: bigint; size: number; symbol: boolean }>();
    for (const f of [...captureFunctions(family), ...closeFunctions(family), ...identityFunctions(family)]) {
      const s = byName.get(f);
      if (s) functions.set(f, { addr: s.value, size: Number(s.size), symbol: true });
    }
    const fl = flavor(family, names);
    const title = family === 'openssl' ? (fl ?? 'OpenSSL') : family === 'gnutls' ? 'GnuTLS' : 'NSS';
    stacks.push({
      family,
      name: builtIn ? `${title} built into ${base}` : title,
      path: file,
      builtIn,
      functions,
    });
  }
  if (!stacks.length && TLS_LIBRARY.test(base) && !/^libssl3\.so/.test(base)) {
    problems.push(
      `${file} looks like a TLS library but has none of the functions capc probes (looked for ${[
        'openssl',
        'gnutls',
        'nss',
      ]
        .flatMap((f) => FAMILIES[f as FamilyName].marks)
        .join(', ')} in .dynsym and .symtab): its version may have moved them`,
    );
  }
  if (!stacks.length && builtIn && !needed.some((n) => TLS_LIBRARY.test(n))) {
    const inside = embeddedTlsVersion(file, sections, isExec || !needed.length);
    if (inside)
      problems.push(
        `${file} has ${inside} linked in but no symbols for it (stripped): capc cannot find SSL_write/SSL_read in it (looked in .dynsym and .symtab)`,
      );
  }
  return { stacks, problems, needed, runpath };
}

function classifyGo(file: string, sections: ReturnType<typeof readSections>, needed: string[]): Classification {
  const runpath: string[] = [];
  const info = goBinaryInfo(file);
  const wanted = new Set([...captureFunctions('go'), ...closeFunctions('go')]);
  const hasSymtab = sections.some((s) => s.name === '.symtab');
  const functions = new Map<string, { addr: bigint; size: number; symbol: boolean }>();
  const problems: string[] = [];
  try {
    if (hasSymtab) {
      for (const [name, s] of findFunctionSymbols(file, [...wanted], sections).found)
        functions.set(name, { addr: s.value, size: Number(s.size), symbol: true });
    } else {
      for (const f of goPclntabFunctions(file, wanted))
        functions.set(f.name, { addr: f.addr, size: f.size, symbol: false });
    }
  } catch (e) {
    problems.push(`${file}: cannot read its Go function table: ${(e as Error).message}`);
  }
  if (!FAMILIES.go.marks.every((m) => functions.has(m))) return { stacks: [], problems, needed, runpath };
  const v = goVersionNumber(info.version);
  const supported = info.machine === 62 && v !== undefined && (v[0] > 1 || v[1] >= 17);
  if (!supported) {
    problems.push(
      `${file} uses Go's crypto/tls, built with ${info.version ?? 'an unknown Go version'}${info.machine !== 62 ? ` for machine ${info.machine}` : ''}: capc captures Go ${FAMILIES.go.minVersion}+ on x86-64 only (Go's register ABI; older Go passes arguments on the stack)`,
    );
    return { stacks: [], problems, needed, runpath };
  }
  return {
    stacks: [
      {
        family: 'go',
        name: `Go crypto/tls (${info.version}) in ${path.basename(file)}`,
        path: file,
        builtIn: true,
        functions,
        version: info.version,
      },
    ],
    problems,
    needed,
    runpath,
  };
}

/** Library names discovery looks inside (TLS libraries, by soname). */
export const TLS_LIBRARY_NAME = /^(libssl|libgnutls|libnspr4|libboringssl)/;

/**
 * The TLS library a symbol-less program carries inside, from the version
 * strings in its read-only data (only looked for in programs that are
 * static: a dynamic one gets TLS from its libraries).
 */
function embeddedTlsVersion(
  file: string,
  sections: ReturnType<typeof readSections>,
  isStatic: boolean,
): string | undefined {
  if (!isStatic) return undefined;
  const ro = sections.find((s) => s.name === '.rodata');
  if (!ro || ro.size > 256 << 20) return undefined;
  const fd = fs.openSync(file, 'r');
  try {
    const data = readAt(fd, ro.offset, ro.size);
    // Version strings, or libssl's source file names (kept for its error messages).
    for (const [needle, what] of [
      ['OpenSSL 3.', 'OpenSSL 3'],
      ['OpenSSL 1.', 'OpenSSL 1'],
      ['BoringSSL', 'BoringSSL'],
      ['/ssl/ssl_lib.c', "OpenSSL's libssl"],
      ['GnuTLS', 'GnuTLS'],
    ] as const) {
      const at = data.indexOf(needle);
      if (at >= 0) {
        let start = at;
        while (start > 0 && start > at - 40 && data[start - 1]! >= 0x20 && data[start - 1]! < 0x7f) start--;
        const end = data.indexOf(0, at);
        const text = data.toString('latin1', start, Math.min(end < 0 ? at + 40 : end, at + 40)).trim();
        return `${what} (found '${text}' in its data)`;
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
