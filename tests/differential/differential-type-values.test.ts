// tests/differential/differential-type-values.test.ts — the C types cases of
// values (cases-types.ts: records, arrays and tuples kept in
// variables and maps, as keys, compared; ++/--; kernel types) under bpftrace
// 0.17 and capc, compared as in differential.test.ts (run-cases.ts).
import { TYPE_VALUE_CASES } from './cases-types.js';
import { differentialTests } from './run-cases.js';

differentialTests(TYPE_VALUE_CASES);
