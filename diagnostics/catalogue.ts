// diagnostics/catalogue.ts — every diagnostic code capc can print, with its
// severity and a title, in two groups: the compiler's (what a program says)
// and the runtime's (what the machine says while building, loading,
// attaching and running). Codes are stable: docs/errors.md documents each
// one (cause and fix) under an anchor named after the code, and a test
// checks that the two lists agree.
//   compiler: E01xx parse   E02xx names   E03xx types   E04xx probes   E05xx capture   E0999   W01xx
//   runtime:  E06xx build (clang)   E07xx load (verifier)   E08xx attach   E09xx runtime   W09xx
//   Nxxxx notes.
import type { Severity } from './diagnostic.js';

interface Entry {
  severity: Severity;
  title: string;
}

/** Codes the compiler reports (compiler/diagnostics/diagnostic.ts: DiagnosticBag takes only these). */
export const COMPILER_CODES = {
  // parse
  E0101: { severity: 'error', title: 'syntax error' },
  E0102: { severity: 'error', title: 'unexpected character' },
  E0103: { severity: 'error', title: 'unterminated string literal' },
  E0104: { severity: 'error', title: 'unterminated comment' },
  E0105: { severity: 'error', title: 'invalid escape sequence' },
  E0106: { severity: 'error', title: 'integer literal out of range' },
  E0107: { severity: 'error', title: 'source is not valid UTF-8' },
  E0108: { severity: 'error', title: 'program too large' },
  E0109: { severity: 'error', title: 'program nested too deeply' },
  // names
  E0201: { severity: 'error', title: 'unknown identifier' },
  E0202: { severity: 'error', title: 'unknown function' },
  E0203: { severity: 'error', title: 'variable used before it is assigned' },
  E0204: { severity: 'error', title: 'map is never assigned' },
  E0205: { severity: 'error', title: 'positional parameter not given' },
  // types
  E0301: { severity: 'error', title: 'wrong number of arguments' },
  E0302: { severity: 'error', title: 'argument of the wrong type' },
  E0303: { severity: 'error', title: 'operand types do not match' },
  E0304: { severity: 'error', title: 'map keys used inconsistently' },
  E0305: { severity: 'error', title: 'map values used inconsistently' },
  E0306: { severity: 'error', title: 'cannot assign to this expression' },
  E0307: { severity: 'error', title: 'invalid printf format' },
  E0308: { severity: 'error', title: 'printf arguments do not match the format' },
  E0309: { severity: 'error', title: 'printf argument of the wrong type' },
  E0310: { severity: 'error', title: 'invalid size' },
  E0311: { severity: 'error', title: 'invalid cast' },
  E0312: { severity: 'error', title: 'condition is not an integer' },
  E0313: { severity: 'error', title: 'aggregation used as a value' },
  E0314: { severity: 'error', title: 'variable type changed' },
  E0315: { severity: 'error', title: 'break or continue outside a loop' },
  E0316: { severity: 'error', title: 'unknown type' },
  E0317: { severity: 'error', title: 'unknown field' },
  E0318: { severity: 'error', title: 'cannot dereference' },
  E0319: { severity: 'error', title: 'pointer read from the wrong address space' },
  E0320: { severity: 'error', title: 'array index cannot be bounded' },
  E0321: { severity: 'error', title: 'C definitions rejected by clang' },
  E0322: { severity: 'error', title: 'macro cannot be used as a value' },
  E0330: { severity: 'error', title: 'unsafe function without --unsafe' },
  /** Retired (cat() and system() are implemented): kept, never reused. */
  E0331: { severity: 'error', title: 'function not supported yet (retired)' },
  E0332: { severity: 'error', title: 'cgroup path not usable' },
  // probes
  E0401: { severity: 'error', title: 'unknown probe type' },
  E0402: { severity: 'error', title: 'malformed probe' },
  E0403: { severity: 'error', title: 'unknown tracepoint' },
  E0404: { severity: 'error', title: 'unknown tracepoint field' },
  E0405: { severity: 'error', title: 'not available in this probe' },
  E0406: { severity: 'error', title: 'unknown library or binary' },
  E0407: { severity: 'error', title: 'function not found' },
  E0408: { severity: 'error', title: 'invalid interval' },
  E0409: { severity: 'error', title: 'wildcard matches nothing' },
  E0410: { severity: 'error', title: 'unknown config option' },
  E0411: { severity: 'error', title: 'invalid config value' },
  E0412: { severity: 'error', title: 'program has no probes' },
  E0413: { severity: 'error', title: 'syscall number not known for a raw tracepoint' },
  E0414: { severity: 'error', title: 'uprobe on an IFUNC resolver' },
  // packets (xdp:, tc:)
  E0420: { severity: 'error', title: 'unknown network interface' },
  E0421: { severity: 'error', title: 'unknown packet header or field' },
  E0422: { severity: 'error', title: "header not on the packet's protocol path" },
  E0423: { severity: 'error', title: 'packet read cannot be bounded' },
  E0424: { severity: 'error', title: 'two XDP programs on one interface' },
  // capture
  E0501: { severity: 'error', title: 'capture size is not a power of two (R1)' },
  E0502: { severity: 'error', title: 'capture size out of range' },
  E0503: { severity: 'error', title: 'invalid sink' },
  E0504: { severity: 'error', title: 'capture key is not an integer' },
  E0505: { severity: 'error', title: 'no capture signature for this probe' },
  E0506: { severity: 'error', title: 'capture sites disagree' },
  E0507: { severity: 'error', title: 'invalid capture arguments' },
  E0508: { severity: 'error', title: 'unknown protocol to decode' },
  E0999: { severity: 'error', title: 'internal compiler error' },
  // warnings
  W0101: { severity: 'warning', title: 'unreachable statement' },
  W0102: { severity: 'warning', title: 'attach point not on this machine: skipped' },
  W0103: { severity: 'warning', title: 'function found in a library the target needs' },
  W0104: { severity: 'warning', title: 'IFUNC resolvers a wildcard matched: skipped' },
} as const satisfies Record<string, Entry>;

/** Codes the runtime reports (runtime/errors.ts: CapcError), and the warnings it prints while running. */
export const RUNTIME_CODES = {
  // build
  E0601: { severity: 'error', title: 'C compiler failed' },
  E0602: { severity: 'error', title: 'toolchain missing' },
  E0603: { severity: 'error', title: 'kernel BTF unavailable' },
  E0604: { severity: 'error', title: 'file from the environment not safe to use as root' },
  E0605: { severity: 'error', title: 'compiled by another version of capc' },
  // load
  E0701: { severity: 'error', title: 'rejected by the kernel verifier' },
  E0702: { severity: 'error', title: 'BPF object could not be loaded' },
  E0703: { severity: 'error', title: 'locked-memory limit too low' },
  // attach
  E0801: { severity: 'error', title: 'probe could not be attached' },
  E0802: { severity: 'error', title: 'probe type not supported by this kernel' },
  E0803: { severity: 'error', title: 'tracefs unavailable' },
  // runtime
  E0901: { severity: 'error', title: 'insufficient privileges' },
  E0902: { severity: 'error', title: 'process not found' },
  E0903: { severity: 'error', title: 'command could not be started' },
  E0904: { severity: 'error', title: 'invalid command-line usage' },
  E0905: { severity: 'error', title: 'cannot read input' },
  E0906: { severity: 'error', title: 'failure while running' },
  E0907: { severity: 'error', title: 'output path not safe to write' },
  E0908: { severity: 'error', title: 'metrics address cannot be served' },
  // warnings
  W0601: { severity: 'warning', title: 'cache directory not trusted: not used' },
  W0602: { severity: 'warning', title: 'cache entry not trusted: not used' },
  W0603: { severity: 'warning', title: 'tool on PATH not trusted: skipped' },
  W0901: { severity: 'warning', title: 'events lost' },
  W0902: { severity: 'warning', title: 'map full: updates failed' },
  W0903: { severity: 'warning', title: 'captured bytes lost' },
  W0904: { severity: 'warning', title: 'loop stopped at its iteration limit' },
  W0905: { severity: 'warning', title: 'exchanges not decoded' },
  W0906: { severity: 'warning', title: 'export losses' },
  W0907: { severity: 'warning', title: 'TLS stack found that capc cannot probe' },
  W0908: { severity: 'warning', title: 'TLS traffic the program did not capture' },
  W0909: { severity: 'warning', title: 'the capture saw no connection' },
  W0910: { severity: 'warning', title: 'calls passed a predicate on an unknown connection identity' },
  W0911: { severity: 'warning', title: "capc's native drain library is not used" },
} as const satisfies Record<string, Entry>;

export const CATALOGUE = { ...COMPILER_CODES, ...RUNTIME_CODES };

export type CompilerCode = keyof typeof COMPILER_CODES;
export type DiagnosticCode = keyof typeof CATALOGUE;
