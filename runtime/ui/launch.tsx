// runtime/ui/launch.tsx — mounts the terminal UI on the alternate screen
// (so the normal screen is left as it was, and the final maps print there
// once the UI closes), with Ink limited to 10 frames a second; each frame is
// one write, wrapped in synchronized-output marks, so terminals show no
// flicker. (Ink 6.8's incrementalRendering misplaces lines when the output
// ends in a newline, as ours does: not used.) close() unmounts and restores
// the terminal; it also
// happens on process exit if something goes wrong. With CAPC_UI_METRICS=FILE
// the frame count, render times and event-loop delay are written to FILE
// (used by the benchmark).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { render } from 'ink';
import { App, type AppProps } from './App.js';
import { writePrivateFile } from '../files/private-files.js';

const ENTER_ALT = '\x1b[?1049h\x1b[H\x1b[2J';
const LEAVE_ALT = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

export interface UiHandle {
  close(): Promise<void>;
}

export function mountUi(
  props: AppProps,
  io: { stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream },
): UiHandle {
  const metricsFile = process.env.CAPC_UI_METRICS;
  const metrics = { frames: 0, renderMsTotal: 0, renderMsMax: 0 };
  const loop = metricsFile ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
  loop?.enable();
  io.stdout.write(ENTER_ALT);
  let closed = false;
  const restore = () => {
    if (closed) return;
    closed = true;
    io.stdout.write(LEAVE_ALT + SHOW_CURSOR);
  };
  process.once('exit', restore);
  const options = {
    stdout: io.stdout,
    stdin: io.stdin,
    stderr: io.stderr,
    exitOnCtrlC: false,
    patchConsole: true,
    maxFps: 10,
    onRender: ({ renderTime }: { renderTime: number }) => {
      metrics.frames++;
      metrics.renderMsTotal += renderTime;
      metrics.renderMsMax = Math.max(metrics.renderMsMax, renderTime);
    },
  };
  let instance: ReturnType<typeof render>;
  try {
    instance = render(<App {...props} />, options);
  } catch (e) {
    restore(); // never leave the terminal on the alternate screen
    throw e;
  }
  return {
    async close() {
      if (closed) return;
      instance.unmount();
      await instance.waitUntilExit().catch(() => {});
      restore();
      process.off('exit', restore);
      if (metricsFile && loop) {
        loop.disable();
        const ms = (ns: number) => Math.round(ns / 1e4) / 100;
        const out = {
          ...metrics,
          renderMsAvg: metrics.frames ? metrics.renderMsTotal / metrics.frames : 0,
          eventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
          uptimeMs: Date.now() - props.startedAt,
        };
        writePrivateFile(metricsFile, JSON.stringify(out, null, 2) + '\n');
      }
    },
  };
}
