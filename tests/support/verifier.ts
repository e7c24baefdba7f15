// tests/support/verifier.ts — the tests' own way into the compiler's lowering
// options: compile a program (the compiler API, the machine's Host), build it
// with clang and load it into the kernel verifier in this process, as
// `capc check` does. Negative controls pass LowerOptions.omitRules here to
// leave a verifier rule out; capc itself has no flag or variable for that.
import { compile, type CompileOptions } from '../../compiler/compile.js';
import { renderDiagnostics } from '../../diagnostics/render.js';
import { BpfObject } from '../../runtime/bpf/object.js';
import { compileC } from '../../runtime/build/clang.js';
import { CapcError } from '../../runtime/errors.js';
import { systemHost } from '../../runtime/build/build.js';

/** Whether the kernel verifier accepts `text` compiled with `options`; `report`: the diagnostics (and verifier log excerpt) when not. */
export async function loadIntoVerifier(
  text: string,
  options: CompileOptions = {},
): Promise<{ ok: boolean; report: string }> {
  const source = { name: '-e', text };
  const r = compile(source, systemHost(), { cFileName: 'program.bpf.c', ...options });
  if (!r.ok || !r.output) return { ok: false, report: renderDiagnostics(r.diagnostics, source) };
  const built = await compileC(r.output.c, source, { cFile: 'program.bpf.c', noCache: true });
  const obj = BpfObject.open(built.object, r.output.manifest);
  try {
    obj.load(source, false);
    return { ok: true, report: '' };
  } catch (e) {
    if (!(e instanceof CapcError)) throw e;
    return { ok: false, report: `${renderDiagnostics([e.toDiagnostic()], source)}\n${e.detail ?? ''}` };
  } finally {
    obj.close();
  }
}
