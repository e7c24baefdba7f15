// runtime/cli/dry-run.ts — bpftrace's dry runs of `capc run`: `-d` prints
// what each compiler pass produced (the syntax tree, the checked program,
// the lowered program) and the generated C, `-dd` also the probe
// resolution, the capture plan and the manifest; `--emit-elf FILE` writes
// the compiled BPF object. Nothing is loaded into the kernel. (bpftrace
// prints its AST and LLVM IR; capc's stages are these.)
import fs from 'node:fs';
import type { PassName } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import { CompileFailed } from '../session/session.js';
import { createPrivateFile } from '../files/private-files.js';
import { compileOptions, EXIT_OK, printDiagnostics, readSource, reportFailure } from './common.js';
import type { RunOpts } from './run-options.js';

const D: PassName[] = ['parse', 'check', 'lower'];
const DD: PassName[] = ['parse', 'collect', 'check', 'plan-capture', 'lower'];

export async function dryRun(file: string | undefined, args: string[], opts: RunOpts): Promise<number> {
  let source;
  try {
    if (opts.emitLlvm !== undefined)
      throw new CapcError('E0904', '--emit-llvm: capc does not generate LLVM IR', [
        'capc generates C and compiles it with clang: capc emit FILE prints the C, --emit-elf FILE writes the object',
      ]);
    const positional = opts.e !== undefined && file !== undefined ? [file, ...args] : args;
    source = readSource(opts.e !== undefined ? undefined : file, opts);
    const { compileSource, buildSource } = await import('../build/build.js');
    const options = compileOptions(opts, positional);
    if (opts.d) {
      const r = await compileSource(source, { ...options, dumps: (opts.d ?? 0) > 1 ? DD : D });
      const out: string[] = [];
      for (const d of r.dumps ?? []) out.push(`After pass: ${d.pass}\n${'-'.repeat(20)}\n${d.text.trimEnd()}\n\n`);
      if (r.ok && r.output) {
        out.push(`Generated C\n${'-'.repeat(20)}\n${r.output.c.trimEnd()}\n\n`);
        if ((opts.d ?? 0) > 1) out.push(`Manifest\n${'-'.repeat(20)}\n${r.output.manifestJson.trimEnd()}\n\n`);
      }
      process.stdout.write(out.join(''));
      if (!r.ok) throw new CompileFailed(r.diagnostics);
      if (opts.warnings) printDiagnostics(r.diagnostics, source);
    }
    if (opts.emitElf !== undefined) {
      const r = await buildSource(source, options, { noCache: !opts.cache });
      if (!r.ok || !r.output || !r.object) throw new CompileFailed(r.diagnostics);
      if (!opts.d && opts.warnings) printDiagnostics(r.diagnostics, source);
      // 0600, never through a link (runtime/files/private-files.ts).
      const fd = createPrivateFile(opts.emitElf);
      try {
        fs.writeFileSync(fd, r.object.object);
      } finally {
        fs.closeSync(fd);
      }
    }
    return EXIT_OK;
  } catch (e) {
    return reportFailure(e, source, !!opts.verbose);
  }
}
