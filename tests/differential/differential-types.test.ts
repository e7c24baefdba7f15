// tests/differential/differential-types.test.ts — the C types cases that
// read through types (cases-types.ts: fields, arrays, bitfields, unions,
// pointers, sizeof) under bpftrace 0.17 and capc, compared as in
// differential.test.ts (run-cases.ts runs them all). The other type cases are
// in differential-type-sources.test.ts and differential-type-values.test.ts,
// so each file stays well inside the runner's per-file time limit.
import { TYPE_READ_CASES } from './cases-types.js';
import { differentialTests } from './run-cases.js';

differentialTests(TYPE_READ_CASES);
