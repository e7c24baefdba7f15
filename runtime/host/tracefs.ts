// runtime/host/tracefs.ts — reads the kernel's tracepoints from tracefs:
// categories, names, and each tracepoint's record format. Mounts tracefs at
// /sys/kernel/tracing when it is not mounted (capc runs as root).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TracepointField, TracepointFormat } from '../../compiler/index.js';
import { CapcError } from '../errors.js';

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export class Tracefs {
  private root: string | undefined;
  private readonly names = new Map<string, string[]>();
  private readonly formats = new Map<string, TracepointFormat | undefined>();
  private categoryList: string[] | undefined;

  /** The events directory, mounting tracefs if needed. */
  eventsDir(): string {
    if (this.root) return this.root;
    for (const c of CANDIDATES) {
      if (fs.existsSync(path.join(c, 'events'))) return (this.root = path.join(c, 'events'));
    }
    try {
      fs.mkdirSync('/sys/kernel/tracing', { recursive: true });
      execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'pipe' });
    } catch (e) {
      throw new CapcError('E0803', 'tracefs is not mounted and capc could not mount it', [
        'mount it: mount -t tracefs nodev /sys/kernel/tracing',
        `(${(e as Error).message.split('\n')[0]})`,
      ]);
    }
    if (!fs.existsSync('/sys/kernel/tracing/events'))
      throw new CapcError('E0803', 'tracefs has no events directory', [
        'is this kernel built with CONFIG_TRACEPOINTS?',
      ]);
    return (this.root = '/sys/kernel/tracing/events');
  }

  categories(): string[] {
    this.categoryList ??= fs
      .readdirSync(this.eventsDir(), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    return this.categoryList;
  }

  tracepoints(category: string): string[] {
    let n = this.names.get(category);
    if (!n) {
      const dir = path.join(this.eventsDir(), category);
      n = fs.existsSync(dir)
        ? fs
            .readdirSync(dir, { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .map((d) => d.name)
            .sort()
        : [];
      this.names.set(category, n);
    }
    return n;
  }

  format(category: string, name: string): TracepointFormat | undefined {
    const key = `${category}:${name}`;
    if (this.formats.has(key)) return this.formats.get(key);
    let f: TracepointFormat | undefined;
    try {
      f = parseFormat(category, name, fs.readFileSync(path.join(this.eventsDir(), category, name, 'format'), 'utf8'));
    } catch {
      f = undefined;
    }
    this.formats.set(key, f);
    return f;
  }
}

/** Parse a tracefs `format` file; common_* fields are left out. */
export function parseFormat(category: string, name: string, text: string): TracepointFormat {
  const fields: TracepointField[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/.exec(line);
    if (!m) continue;
    const decl = m[1]!.trim();
    const d = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!d) continue;
    const fieldName = d[2]!;
    if (fieldName.startsWith('common_')) continue;
    const type = `${d[1]!.trim()}${d[3] ?? ''}`.replace(/\s+\*/g, ' *').trim();
    fields.push({ name: fieldName, type, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1' });
  }
  return { category, name, fields };
}
