// tests/support/tmux.ts — drives a program in a real terminal: a private tmux
// server (its own socket, no user config), keys sent with send-keys, the
// screen read back with capture-pane. Used to test the terminal UI end to end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export class Tmux {
  private readonly socket = `capc-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  private socketPath: string | undefined;

  /** Start `command` (run by sh) in a cols×rows terminal. */
  start(command: string, cols = 80, rows = 24): void {
    this.tmux('new-session', '-d', '-s', 'main', '-x', String(cols), '-y', String(rows), command);
    this.socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
  }

  /** Send tmux key names (Space, Tab, BTab, Enter, C-c, q...). */
  keys(...names: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...names);
  }

  /** Type text literally. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  resize(cols: number, rows: number): void {
    this.tmux('resize-window', '-t', 'main', '-x', String(cols), '-y', String(rows));
  }

  /** The visible screen, as text; with `history`, that many lines of scrollback above it too. */
  screen(history = 0): string {
    return this.tmux('capture-pane', '-p', '-t', 'main', ...(history ? ['-S', String(-history)] : []));
  }

  /** Poll the screen until `re` matches; returns the match and how long it took. */
  async waitFor(re: RegExp, timeoutMs = 15000): Promise<{ m: RegExpExecArray; screen: string; ms: number }> {
    const start = Date.now();
    let screen = '';
    while (Date.now() - start < timeoutMs) {
      screen = this.screen();
      const m = re.exec(screen);
      if (m) return { m, screen, ms: Date.now() - start };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`screen never matched ${re} in ${timeoutMs} ms; it shows:\n${screen}`);
  }

  /** Stop the server and everything in it (the program gets SIGHUP), and remove its socket. */
  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      /* already gone */
    }
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }
}
