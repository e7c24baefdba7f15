// tests/differential/differential.test.ts — the differential cases of
// cases.ts (probes, maps, functions, output) under bpftrace 0.17 and capc;
// the C types cases run in differential-types.test.ts (run-cases.ts runs both).
import { CASES } from './cases.js';
import { differentialTests } from './run-cases.js';

differentialTests(CASES);
