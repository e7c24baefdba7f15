// tests/unit/verifier-log.test.ts — explaining verifier logs: reason, .cap
// line from the BTF line info, class-specific hints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainVerifierLog } from '../../runtime/bpf/verifier-log.js';

const source = { name: 'x.cap', text: 'BEGIN {\n  $x = 1;\n  printf("%s\\n", str(arg0));\n}\n' };

test('reason is the last message before "processed"; the line comes from "@ file:line"', () => {
  const log = [
    'func#0 @0',
    '0: R1=ctx() R10=fp0',
    '; int capc_p0(struct pt_regs *ctx) @ x.cap:1',
    '0: (bf) r6 = r1',
    '; bpf_probe_read_user_str(ev->a0, 64, ...) @ x.cap:3',
    '12: (85) call bpf_probe_read_user_str#114',
    "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'",
    'processed 15 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
  ].join('\n');
  const e = explainVerifierLog(log, source);
  assert.match(e.reason, /unbounded memory access/);
  assert.equal(e.span?.line, 3);
  assert.equal(e.kind, 'memory-bounds');
  assert.match(e.hints[0]!, /masked/);
});

test('classes: null map values, stack size, unreleased references, complexity', () => {
  const cls = (msg: string) => explainVerifierLog(`0: (b7) r0 = 0\n${msg}\nprocessed 1 insns`, source).kind;
  assert.equal(cls("R0 invalid mem access 'map_value_or_null'"), 'null-map-value');
  assert.equal(cls('combined stack size of 2 calls is 544. Too large'), 'stack-size');
  assert.equal(cls('Unreleased reference id=2 alloc_insn=5'), 'unreleased-reference');
  assert.equal(cls('BPF program is too large. Processed 1000001 insn'), 'too-complex');
  // The reason wins over a null map value in the lines just before it (a loop body's map update).
  const paths = explainVerifierLog(
    `168: (85) call bpf_map_lookup_elem#1 ; R0=map_value_or_null(id=7177)\n169: (55) if r0 != 0x0 goto pc-151\nThe sequence of 8193 jumps is too complex.\nprocessed 62266 insns`,
    source,
  );
  assert.equal(paths.kind, 'too-many-paths');
  assert.match(paths.hints[0]!, /loop_limit/);
  assert.equal(cls('invalid read from stack R2 off -8+0 size 8'), 'uninitialized-stack');
  assert.equal(cls('something nobody has seen'), 'other');
});
