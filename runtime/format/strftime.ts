// runtime/format/strftime.ts — C's strftime for time(): the conversions
// bpftrace scripts use, in local time (TZ as the C library reads it: Node
// follows the same TZ variable and /etc/localtime).
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const p2 = (n: number) => String(n).padStart(2, '0');

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86400000) + 1;
}

function tzOffset(d: Date): string {
  const m = -d.getTimezoneOffset();
  const a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

function tzName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((x) => x.type === 'timeZoneName');
  const n = part?.value ?? 'UTC';
  return /^GMT[+-]?\d*$/.test(n) && d.getTimezoneOffset() === 0 ? 'UTC' : n;
}

export function strftime(fmt: string, d: Date): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%' || i + 1 >= fmt.length) {
      out += ch;
      continue;
    }
    const c = fmt[++i]!;
    const h12 = d.getHours() % 12 || 12;
    switch (c) {
      case 'H':
        out += p2(d.getHours());
        break;
      case 'M':
        out += p2(d.getMinutes());
        break;
      case 'S':
        out += p2(d.getSeconds());
        break;
      case 'I':
        out += p2(h12);
        break;
      case 'p':
        out += d.getHours() < 12 ? 'AM' : 'PM';
        break;
      case 'Y':
        out += String(d.getFullYear());
        break;
      case 'y':
        out += p2(d.getFullYear() % 100);
        break;
      case 'C':
        out += p2(Math.floor(d.getFullYear() / 100));
        break;
      case 'm':
        out += p2(d.getMonth() + 1);
        break;
      case 'd':
        out += p2(d.getDate());
        break;
      case 'e':
        out += String(d.getDate()).padStart(2, ' ');
        break;
      case 'j':
        out += String(dayOfYear(d)).padStart(3, '0');
        break;
      case 'a':
        out += DAYS[d.getDay()]!.slice(0, 3);
        break;
      case 'A':
        out += DAYS[d.getDay()];
        break;
      case 'b':
      case 'h':
        out += MONTHS[d.getMonth()]!.slice(0, 3);
        break;
      case 'B':
        out += MONTHS[d.getMonth()];
        break;
      case 'u':
        out += String(d.getDay() || 7);
        break;
      case 'w':
        out += String(d.getDay());
        break;
      case 'T':
        out += `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
        break;
      case 'R':
        out += `${p2(d.getHours())}:${p2(d.getMinutes())}`;
        break;
      case 'D':
        out += `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`;
        break;
      case 'F':
        out += `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
        break;
      case 'r':
        out += `${p2(h12)}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getHours() < 12 ? 'AM' : 'PM'}`;
        break;
      case 'c':
        out += `${DAYS[d.getDay()]!.slice(0, 3)} ${MONTHS[d.getMonth()]!.slice(0, 3)} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
        break;
      case 's':
        out += String(Math.floor(d.getTime() / 1000));
        break;
      case 'z':
        out += tzOffset(d);
        break;
      case 'Z':
        out += tzName(d);
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '%':
        out += '%';
        break;
      default:
        out += `%${c}`;
    }
  }
  return out;
}
