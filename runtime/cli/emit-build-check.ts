// runtime/cli/emit-build-check.ts — the commands that compile without
// running: `emit` prints the generated C, `build` writes C + object +
// manifest to a directory, `check` also loads the object into the kernel
// verifier (nothing is attached) and says whether it was accepted.
import fs from 'node:fs';
import { OutputDir } from '../files/private-files.js';
import path from 'node:path';
import type { Command } from 'commander';
import type { PassName } from '../../compiler/index.js';
import { BpfObject } from '../bpf/object.js';
import { CapcError } from '../errors.js';
import { CompileFailed } from '../session/session.js';
import { requireBtf, requirePrivileges } from '../build/environment.js';
import { capacityReport } from './capacity.js';
import { addCompileOptions, addUprobeOption, uprobeForm } from './run-options.js';
import { compileOptions, EXIT_OK, printDiagnostics, readSource, reportFailure, type ProgramOpts } from './common.js';

/** check, emit and build take the options that change what is compiled, as run does (--unsafe, -k, -I...). */
function programCommand(program: Command, name: string, description: string) {
  return addCompileOptions(
    program
      .command(name)
      .description(description)
      .argument('[file]', '.cap program (- for stdin)')
      .argument('[args...]', 'positional parameters: $1, $2, ...'),
  );
}

/** The compiler, loaded only by the commands that need it (`capc run` usually starts from its cache without it). */
const compiler = () => import('../build/build.js');

function positionalOf(file: string | undefined, args: string[], opts: ProgramOpts): string[] {
  return opts.e !== undefined && file !== undefined ? [file, ...args] : args;
}

type EmitOpts = ProgramOpts & { manifest?: boolean; dump?: string; line: boolean };

export function registerEmit(program: Command): void {
  programCommand(program, 'emit', 'print the C that capc generates for a program')
    .option('--manifest', 'print the manifest (JSON) instead of the C')
    .option(
      '--dump <pass>',
      'print what one compiler pass produced instead: parse, collect, check, plan-capture, lower or emit',
    )
    .option('--no-line', 'leave out the #line directives (C to read, not to build)')
    .action(async (file: string | undefined, args: string[], opts: EmitOpts) => {
      let source;
      try {
        source = readSource(opts.e !== undefined ? undefined : file, opts);
        const { compileSource, passNames } = await compiler();
        const passes = await passNames();
        if (opts.dump !== undefined && !passes.includes(opts.dump))
          throw new CapcError('E0904', `--dump: capc has no pass named '${opts.dump}'`, [
            `the passes, in order: ${passes.join(', ')}`,
          ]);
        const r = await compileSource(source, {
          ...compileOptions(opts, positionalOf(file, args, opts)),
          dump: opts.dump as PassName | undefined,
          lineDirectives: opts.line,
        });
        if (!r.ok || (!r.output && r.dump === undefined)) throw new CompileFailed(r.diagnostics);
        printDiagnostics(r.diagnostics, source);
        process.stdout.write(r.dump ?? (opts.manifest ? r.output!.manifestJson : r.output!.c));
        process.exitCode = EXIT_OK;
      } catch (e) {
        process.exitCode = reportFailure(e, source, !!opts.verbose);
      }
    });
}

export function registerBuild(program: Command): void {
  programCommand(program, 'build', 'write the generated C, the BPF object and manifest.json to a directory')
    .requiredOption('-o, --out <dir>', 'output directory')
    .action(async (file: string | undefined, args: string[], opts: ProgramOpts & { out: string }) => {
      let source;
      try {
        source = readSource(opts.e !== undefined ? undefined : file, opts);
        const { buildSource, cFileNameFor } = await compiler();
        const r = await buildSource(source, compileOptions(opts, positionalOf(file, args, opts)));
        if (!r.ok || !r.output || !r.object) throw new CompileFailed(r.diagnostics);
        printDiagnostics(r.diagnostics, source);
        const cName = cFileNameFor(source);
        // 0700 directory, 0600 files, never through a link (runtime/files/private-files.ts).
        const out = OutputDir.open(opts.out);
        try {
          for (const [name, data] of [
            [cName, r.output.c],
            [cName.replace(/\.c$/, '.o'), r.object.object],
            ['manifest.json', r.output.manifestJson],
          ] as const) {
            const fd = out.createFile(name);
            try {
              fs.writeFileSync(fd, data);
            } finally {
              fs.closeSync(fd);
            }
          }
        } finally {
          out.close();
        }
        process.stdout.write(`wrote ${path.join(opts.out, cName)}, ${cName.replace(/\.c$/, '.o')} and manifest.json\n`);
        process.stdout.write(capacityReport(r.output.manifest));
        process.exitCode = EXIT_OK;
      } catch (e) {
        process.exitCode = reportFailure(e, source, !!opts.verbose);
      }
    });
}

export function registerCheck(program: Command): void {
  addUprobeOption(
    programCommand(program, 'check', 'compile a program and load it into the kernel verifier without attaching it'),
  ).action(async (file: string | undefined, args: string[], opts: ProgramOpts & { uprobes?: string }) => {
    let source;
    try {
      source = readSource(opts.e !== undefined ? undefined : file, opts);
      requirePrivileges();
      requireBtf();
      const { buildSource } = await compiler();
      const r = await buildSource(source, compileOptions(opts, positionalOf(file, args, opts)));
      if (!r.ok || !r.output || !r.object) throw new CompileFailed(r.diagnostics);
      printDiagnostics(r.diagnostics, source);
      const obj = BpfObject.open(r.object.object, r.output.manifest);
      try {
        obj.setRodata({});
        obj.prepareUprobes(uprobeForm(opts.uprobes)); // loaded as run would load them
        obj.load(source, !!opts.verbose);
      } finally {
        obj.close();
      }
      const n = r.output.manifest.probes.length;
      process.stdout.write(`${source.name}: ok: ${n} probe${n === 1 ? '' : 's'} accepted by the kernel verifier\n`);
      process.stdout.write(capacityReport(r.output.manifest));
      process.exitCode = EXIT_OK;
    } catch (e) {
      process.exitCode = reportFailure(e, source, !!opts.verbose);
    }
  });
}
