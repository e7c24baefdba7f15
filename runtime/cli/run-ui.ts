// runtime/cli/run-ui.ts — `capc run` with the terminal UI: the session feeds
// a UiStore (runtime/ui/store.ts) instead of the text renderer, the UI code
// (Ink, React) is loaded only now, in parallel with the compile, and mounted
// once the probes are attached (so a script error is printed as in text
// mode, before any UI). q / Ctrl-C in the UI abort the session through the
// same path as SIGINT; when the session is over the UI closes and the
// closing output (END, the final maps, drop totals) is printed as text,
// after what the events pane held if the session ended by itself.
import fs from 'node:fs';
import os from 'node:os';
import type { SourceFile } from '../../diagnostics/source.js';
import type { Renderer } from '../events/model.js';
import { TextRenderer, type Out } from '../output/text.js';
import { runSession, type RunOptions } from '../session/session.js';
import { UiStore } from '../ui/store.js';
import { colorAllowed } from './output-mode.js';
import type { Manifest } from '../../compiler/index.js';
import type { Pane } from '../ui/view-state.js';

/** The pane to open on: Queries when decoding, Maps for a program that only fills maps, else Events. */
export function firstPane(m: Manifest, decoding: boolean): Pane {
  if (decoding && m.capture) return 'queries';
  if (m.maps.length && !m.events.length && !m.capture) return 'maps';
  return 'events';
}

export interface UiRunOptions {
  /** --decode was given. */
  decode?: boolean;
  /** Wraps the store (e.g. to also write stream files). */
  wrap?: (store: Renderer) => Renderer;
  quiet: boolean;
  hex: boolean;
  abort: AbortController;
  out: Out;
  err: Out;
}

function describeTarget(command: string | undefined, pid: number | undefined): string {
  if (command) return `-c ${command.trim().replace(/^\S*\/(?=[^/\s]+(\s|$))/, '')}`; // the program's name, not its directory
  if (pid !== undefined) {
    let comm = '';
    try {
      comm = ` (${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
    } catch {
      /* it may be gone already: the session says so */
    }
    return `-p ${pid}${comm}`;
  }
  return 'all processes';
}

function describeScript(s: SourceFile): string {
  return s.name === '-e' ? `-e '${s.text.replace(/\s+/g, ' ').trim()}'` : s.name;
}

export async function runInTerminalUi(base: Omit<RunOptions, 'renderer'>, o: UiRunOptions): Promise<number> {
  const store = new UiStore();
  const ui = import('../ui/launch.js');
  ui.catch(() => {}); // handled when mounting
  let handle: { close(): Promise<void> } | undefined;
  let mounting: Promise<void> | undefined;
  let uiError: unknown;
  let quitInUi = false;
  let initialPane: Pane | undefined;
  const props = () => ({
    initialPane,
    store,
    script: describeScript(base.source),
    target: describeTarget(base.command, base.pid),
    startedAt: Date.now(),
    onQuit: () => {
      quitInUi = true;
      o.abort.abort();
    },
    cpus: os.cpus().length,
    color: colorAllowed(process.env),
    hex: o.hex,
    saveDir: process.cwd(),
  });
  const mount = () => {
    mounting = ui
      .then((m) => {
        if (!store.ended)
          handle = m.mountUi(props(), { stdout: process.stdout, stdin: process.stdin, stderr: process.stderr });
      })
      .catch((e) => {
        // No UI means nobody sees anything: stop the session cleanly, then report it.
        uiError = e;
        o.abort.abort();
      });
  };
  let code: number;
  try {
    code = await runSession({
      ...base,
      onManifest: (m) => {
        base.onManifest?.(m);
        initialPane = firstPane(m, !!o.decode || !!m.capture?.decode);
      },
      renderer: o.wrap ? o.wrap(store) : store,
      childOutput: (d) => store.childOutput(d),
      live: {
        onTick: (s) => store.snapshot(s),
        onReady: (c) => (store.controls = c),
        wantMaps: () => store.mapsWanted,
      },
      onAttached: () => {
        base.onAttached?.();
        mount();
      },
    });
  } finally {
    await mounting;
    await handle?.close();
  }
  // The UI is gone: what text mode would print at the end goes to the normal screen. A session
  // that ended by itself (the command exited, exit(), --duration) may have flashed by unread:
  // then what the events pane held is printed first, so a short run shows what text mode shows.
  const text = new TextRenderer(o.out, o.err, o.quiet, o.hex);
  const after = store.afterUi({ replay: !quitInUi });
  if (after.skipped)
    o.err.write(
      `capc: ${after.skipped} earlier entries were shown in the terminal UI only (--no-tui or -o FILE keeps everything)\n`,
    );
  for (const e of after.events) text.event(e);
  text.end();
  if (uiError) throw uiError; // an internal error (exit 70), reported after the session closed cleanly
  return code;
}
