// tests/support/ports.ts — loopback ports for the servers tests start. Test
// files run in parallel processes, and each used to count up from
// 20000 + pid % 20000: files started together have close pids, so their
// ranges overlapped and a server sometimes found its port taken ("address
// already in use"). A port is now handed out only if nothing listens on it
// (/proc/net/tcp, tcp6) and this process could claim it: a file named by the
// port in a directory of claims, created exclusively, holding the claimer's
// pid (a claim whose process is gone is taken over).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FIRST = 20000;
const LAST = 32000; // below the kernel's ephemeral range (32768-60999), where connections take their ports
let claims = path.join(os.tmpdir(), `capc-test-ports-${process.getuid?.() ?? 0}`);
const mine: string[] = [];
let ready = false;
let next = FIRST + ((process.pid * 7919) % (LAST - FIRST));

function listening(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':')[1]!, 16)); // LISTEN
    }
  }
  return ports;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function claim(port: number): boolean {
  const file = path.join(claims, String(port));
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch {
    const owner = Number(fs.readFileSync(file, 'utf8'));
    if (owner === process.pid || alive(owner)) return false;
    fs.writeFileSync(file, String(process.pid), { mode: 0o600 }); // its process is gone
  }
  mine.push(file);
  return true;
}

/** A loopback TCP port no other test process has and nothing listens on. */
export function freePort(): number {
  if (!ready) {
    ready = true;
    fs.mkdirSync(claims, { recursive: true, mode: 0o700 });
    // A directory someone else made is not trusted with claims: this process keeps its own.
    const st = fs.lstatSync(claims);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)
      claims = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-test-ports-'));
    process.on('exit', () => {
      for (const f of mine) fs.rmSync(f, { force: true });
    });
  }
  const busy = listening();
  for (let i = 0; i < LAST - FIRST; i++) {
    const port = next;
    next = next + 1 >= LAST ? FIRST : next + 1;
    if (!busy.has(port) && claim(port)) return port;
  }
  throw new Error(`no free test port from ${FIRST} to ${LAST}`);
}
