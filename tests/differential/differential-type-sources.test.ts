// tests/differential/differential-type-sources.test.ts — the C types cases of
// where types come from and how values print (cases-types.ts: macros, enums,
// includes, DWARF args, -lv, print() in text and JSON) under bpftrace 0.17 and
// capc, compared as in differential.test.ts (run-cases.ts).
import { TYPE_SOURCE_CASES } from './cases-types.js';
import { differentialTests } from './run-cases.js';

differentialTests(TYPE_SOURCE_CASES);
