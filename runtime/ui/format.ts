// runtime/ui/format.ts — short number, size, rate and time formats for the
// terminal UI, where every column is narrow: 1234567 → 1.2M, 412 ns, 1:02:03.

/** 999, 1.2k, 45.6k, 1.2M, 3.4G. */
export function si(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 1 : 0);
  for (const [d, u] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (a >= d) {
      const v = n / d;
      return `${Math.abs(v) < 100 ? v.toFixed(1) : v.toFixed(0)}${u}`;
    }
  }
  return String(n);
}

/** Bytes in KiB/MiB/GiB, one decimal. */
export function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Nanoseconds as ns, µs, ms or s with about three significant digits. */
export function nanos(ns: number): string {
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** 0:07, 1:23, 1:02:03. */
export function clock(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Fit to a width: cut with an ellipsis, or pad with spaces. */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}

/** A probe as a person reads it: paths shortened to their last component. */
export function shortProbe(spec: string): string {
  return spec
    .replace(/(^|:)"(?:[^"]*\/)?([^/"]+)"(?=:)/g, '$1$2')
    .replace(/(^|:)(?:[^:"\s]*\/)+([^/:"\s]+)(?=:)/g, '$1$2');
}

const SHORT_KIND: Record<string, string> = { tracepoint: 't', uprobe: 'u', uretprobe: 'ur', interval: 'i' };

/** bpftrace's short probe kinds (t:, u:, ur:, i:), for the header where room is scarce. */
export function abbrevProbe(label: string): string {
  const i = label.indexOf(':');
  const k = i > 0 ? SHORT_KIND[label.slice(0, i)] : undefined;
  return k ? k + label.slice(i) : label;
}
