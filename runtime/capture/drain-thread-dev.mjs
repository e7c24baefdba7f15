// runtime/capture/drain-thread-dev.mjs — starts the capture thread from the
// TypeScript sources (tests that run a session in-process under tsx): worker
// threads do not inherit tsx's loader, so this registers it first. The built
// CLI runs dist/drain-thread.mjs instead.
import { register } from 'tsx/esm/api';

register();
await import('./drain-thread.ts');
