// tests/support/failing-session.ts — runs one capc session in this process
// with a renderer that fails once, 300 ms after the probes attach (capc has
// no switch to inject a failure), and prints what happened as one JSON line:
// whether the session rejected and with what, the output the renderer took,
// and the kernel ids of the programs it loaded. Run by
// tests/e2e/lifecycle.test.ts in a child process of its own, so the session's
// native resources (libbpf through koffi, detaches on libuv's pool) never live
// in the test runner's process.
//   node --import tsx tests/support/failing-session.ts 'PROGRAM'
import { compileOptions } from '../../runtime/cli/common.js';
import { CapcError } from '../../runtime/errors.js';
import type { Renderer } from '../../runtime/events/model.js';
import { mapText } from '../../runtime/format/maps.js';
import { runSession } from '../../runtime/session/session.js';

const out: string[] = [];
let programs: number[] = [];
let failAt = Infinity;
let failed = false;
const renderer: Renderer = {
  event(e) {
    if (!failed && Date.now() >= failAt) {
      failed = true;
      throw new CapcError('E0906', 'injected failure');
    }
    if (e.kind === 'printf' && !e.text.toString().startsWith('tick')) out.push(e.text.toString());
    if (e.kind === 'maps') out.push(...e.maps.map((m) => mapText(m).toString()));
  },
  end() {},
};
let rejected: string | undefined;
try {
  await runSession({
    source: { name: '-e', text: process.argv[2]! },
    compile: compileOptions({}, []),
    renderer,
    onLoaded: (ids) => (programs = ids),
    onAttached: () => (failAt = Date.now() + 300),
  });
} catch (e) {
  rejected = (e as Error).message;
}
process.stdout.write(JSON.stringify({ rejected, failed, out: out.join(''), programs }) + '\n');
