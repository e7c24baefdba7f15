// tests/e2e/packets.test.ts — packet probes on real interfaces: two network
// namespaces joined by a veth pair this file creates and removes, traffic
// only between them (ping, UDP, TCP, DNS to a responder in a namespace), capc
// run inside one namespace. What capc counts is compared with the kernel's
// own interface counters; after every way out (SIGINT, SIGTERM, SIGKILL, a
// failed attach) nothing is left on the interface.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { createVethPair, netnsSkipReason, type Side, type VethPair } from '../support/netns.js';
import { repoRoot } from '../support/paths.js';

const fixture = (f: string) => path.join(repoRoot, 'tests/fixtures/net', f);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ready(t: TestContext): boolean {
  if (!requireKernel(t)) return false;
  const why = netnsSkipReason();
  if (!why) return true;
  if (process.env.CAPC_REQUIRE_KERNEL === '1') throw new Error(`packet test cannot run here: ${why}`);
  t.skip(why);
  return false;
}

/** Run `fn` with a fresh veth pair, removed afterwards whatever happens. */
async function withPair<T>(fn: (p: VethPair) => Promise<T>, opts: { ipv6?: boolean } = {}): Promise<T> {
  const pair = createVethPair(opts);
  try {
    return await fn(pair);
  } finally {
    pair.destroy();
  }
}

/** Wait until a started child prints `ready` (servers), or fail. */
function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server not ready: ${out}`)), 10000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}

const inNs = (s: Side) => ['ip', 'netns', 'exec', s.ns];

/** The value of a scalar map line (`@name: 42`) in capc's output. */
function scalar(out: string, name: string): number {
  const m = new RegExp(`^@${name}: (\\d+)$`, 'm').exec(out);
  assert.ok(m, `no @${name} in:\n${out}`);
  return Number(m[1]);
}

/**
 * Nothing of capc's left on the interface: no XDP program. (A tcx link holds
 * its program: runCapc's leak check, that every program capc loaded is gone,
 * covers tc probes; this bpftool cannot show tcx attachments by interface.)
 */
function assertClean(p: VethPair, s: Side): void {
  assert.doesNotMatch(p.link(s), /\bxdp|prog\/xdp/, `an XDP program is still attached to ${s.dev}`);
}

const BPF_LINK_TYPE_TCX = 11;

/** Ids of the tcx links whose program is capc's (this file's tests run one at a time). */
function capcTcxLinks(): number[] {
  const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' }) || '[]') as {
    id: number;
    type: number | string;
    prog_id: number;
  }[];
  return links
    .filter((l) => l.type === BPF_LINK_TYPE_TCX || l.type === 'tcx')
    .filter((l) => {
      const prog = JSON.parse(
        execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(l.prog_id)], { encoding: 'utf8' }),
      ) as {
        name?: string;
      };
      return prog.name?.startsWith('capc_');
    })
    .map((l) => l.id);
}

test('xdp flows: every packet the interface received is counted, per 5-tuple, as its counters say', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    let rx = 0;
    let rxBytes = 0;
    let received = '';
    const server = p.start(p.b, 'python3', [fixture('traffic.py'), 'tcp-server', p.b.ip4, '7000']);
    server.stdout!.on('data', (d) => (received += d));
    await waitReady(server);
    const r = await runCapc(['run', 'examples/flows.cap', p.b.dev], {
      wrap: inNs(p.b),
      timeoutMs: 90000,
      onAttached: async (pid) => {
        assert.match(p.link(p.b), /xdp/, 'the program is attached while capc runs');
        const rx0 = p.counter(p.b, 'rx_packets');
        const rxb0 = p.counter(p.b, 'rx_bytes');
        p.exec(p.a, 'ping', ['-c', '20', '-i', '0.01', '-q', p.b.ip4]);
        p.exec(p.a, 'python3', [fixture('traffic.py'), 'udp', p.b.ip4, '9999', '50', '100']);
        p.exec(p.a, 'python3', [fixture('traffic.py'), 'tcp-client', p.b.ip4, '7000', '100000']);
        await sleep(500);
        rx = p.counter(p.b, 'rx_packets') - rx0;
        rxBytes = p.counter(p.b, 'rx_bytes') - rxb0;
        process.kill(pid, 'SIGINT');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(received, /^100000$/m, 'the TCP transfer completed');
    // The kernel's counters and capc's agree exactly: XDP saw every packet the interface received.
    assert.equal(scalar(r.stdout, 'all_packets'), rx, r.stdout);
    // Bytes: veth counts a packet it hands to XDP without its 14-byte Ethernet header; pkt.len is the whole frame.
    assert.equal(scalar(r.stdout, 'all_bytes'), rxBytes + 14 * rx, r.stdout);
    assert.match(r.stdout, /^@packets\[10\.77\.0\.1, 0, 10\.77\.0\.2, 0, 1\]: 20$/m, 'the 20 echo requests');
    assert.match(r.stdout, /^@packets\[10\.77\.0\.1, \d+, 10\.77\.0\.2, 9999, 17\]: 50$/m, 'the 50 datagrams');
    assert.match(r.stdout, /^@bytes\[10\.77\.0\.1, \d+, 10\.77\.0\.2, 9999, 17\]: 7100$/m, '50 x (14 + 20 + 8 + 100)');
    const tcp = /^@bytes\[10\.77\.0\.1, \d+, 10\.77\.0\.2, 7000, 6\]: (\d+)$/m.exec(r.stdout);
    assert.ok(tcp && Number(tcp[1]) > 100000, `the TCP flow carried the 100000 bytes: ${r.stdout}`);
    assertClean(p, p.b);
  });
});

test('tc ingress and egress count what the interface received and sent', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    let rx = 0;
    let tx = 0;
    const prog = `tc:${p.a.dev}:ingress { @in = count(); @in_bytes = sum(pkt.len); }
tc:${p.a.dev}:egress { @out = count(); if (pkt.icmp && pkt.icmp.type == 8) { @echo_requests = count(); } }`;
    const r = await runCapc(['run', '-e', prog], {
      wrap: inNs(p.a),
      timeoutMs: 90000,
      onAttached: async (pid) => {
        const rx0 = p.counter(p.a, 'rx_packets');
        const tx0 = p.counter(p.a, 'tx_packets');
        p.exec(p.a, 'ping', ['-c', '10', '-i', '0.01', '-q', p.b.ip4]);
        p.exec(p.a, 'python3', [fixture('traffic.py'), 'udp', p.b.ip4, '9999', '30', '64']);
        await sleep(300);
        rx = p.counter(p.a, 'rx_packets') - rx0;
        tx = p.counter(p.a, 'tx_packets') - tx0;
        process.kill(pid, 'SIGINT');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(scalar(r.stdout, 'in'), rx, r.stdout);
    assert.equal(scalar(r.stdout, 'out'), tx, r.stdout);
    assert.equal(scalar(r.stdout, 'echo_requests'), 10, r.stdout);
    assertClean(p, p.a);
  });
});

test('dns monitor: queries leaving at tc egress, answers arriving at XDP, names and latency', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    const server = p.start(p.b, 'python3', [fixture('dns-responder.py'), p.b.ip4, '20']);
    try {
      await waitReady(server);
      let answers = '';
      const r = await runCapc(['run', 'examples/dns-monitor.cap', p.a.dev], {
        wrap: inNs(p.a),
        timeoutMs: 90000,
        onAttached: async (pid) => {
          answers = p.exec(p.a, 'python3', [
            fixture('dns-query.py'),
            p.b.ip4,
            'www.example.com',
            'a.b.c.d.example.org',
            'nxdomain.test',
            'www.example.com',
          ]);
          await sleep(300);
          process.kill(pid, 'SIGINT');
        },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(answers, /nxdomain\.test rcode 3/);
      assert.match(r.stdout, /^@queries\[www\.example\.com, 1\]: 2$/m, r.stdout);
      assert.match(r.stdout, /^@queries\[a\.b\.c\.d\.example\.org, 1\]: 1$/m);
      assert.match(r.stdout, /^@queries\[nxdomain\.test, 1\]: 1$/m);
      assert.match(r.stdout, /^@rcodes\[3\]: 1$/m);
      assert.match(r.stdout, /^@rcodes\[0\]: 3$/m);
      // One line per answer, with the latency: the responder waits 20 ms.
      const lines = [...r.stdout.matchAll(/^(\S+)\s+type 1\s+rcode (\d)\s+(\d+) us$/gm)];
      assert.equal(lines.length, 4, r.stdout);
      for (const l of lines) assert.ok(Number(l[3]) >= 20000 && Number(l[3]) < 2000000, l[0]);
      const hist = /^@latency_us: ?\n((?:\[.*\n)+)/m.exec(r.stdout);
      assert.ok(hist, r.stdout);
      const inHist = [...hist[1]!.matchAll(/^\[\S+, \S+\)\s+(\d+) \|/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.equal(inHist, 4, 'every answer is in the latency histogram');
      assertClean(p, p.a);
    } finally {
      server.kill('SIGKILL');
    }
  });
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`${signal}: the XDP and tcx programs leave the interface`, async (t) => {
    if (!ready(t)) return;
    await withPair(async (p) => {
      const prog = `xdp:${p.b.dev} { @x = count(); } tc:${p.b.dev}:egress { @e = count(); }`;
      let tcx: number[] = [];
      const r = await runCapc(['run', '-e', prog], {
        wrap: inNs(p.b),
        timeoutMs: 90000,
        onAttached: (pid) => {
          assert.match(p.link(p.b), /xdp/);
          tcx = capcTcxLinks();
          process.kill(pid, signal);
        },
      });
      assert.equal(tcx.length, 1, 'the tcx link was there while capc ran');
      assert.deepEqual(
        capcTcxLinks().filter((id) => tcx.includes(id)),
        [],
        'the tcx link is gone',
      );
      if (signal === 'SIGKILL') assert.equal(r.signal, 'SIGKILL');
      else assert.notEqual(r.code, null, r.stderr);
      // A link is a file descriptor: the kernel detaches it when the process is gone, however it ended.
      assertClean(p, p.b);
      p.exec(p.a, 'ping', ['-c', '2', '-i', '0.05', '-q', p.b.ip4]);
    });
  });
}

test('an XDP program already on the interface is not replaced: the second capc fails and detaches what it had attached, the first keeps running', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    const prog = `xdp:${p.b.dev} { @seen = count(); }`;
    let second: Awaited<ReturnType<typeof runCapc>> | undefined;
    const first = await runCapc(['run', '-e', prog], {
      wrap: inNs(p.b),
      timeoutMs: 90000,
      onAttached: async (pid) => {
        // The second attaches its tc probe first, then fails at XDP: the tc probe must leave too.
        const both = `tc:${p.b.dev}:egress { @t = count(); } xdp:${p.b.dev} { @seen = count(); }`;
        second = await runCapc(['run', '-e', both], { wrap: inNs(p.b), timeoutMs: 60000 });
        assert.deepEqual(capcTcxLinks(), [], 'the failed run left its tcx link');
        p.exec(p.a, 'ping', ['-c', '3', '-i', '0.05', '-q', p.b.ip4]);
        process.kill(pid, 'SIGINT');
      },
    });
    assert.equal(second?.code, 1, second?.stderr);
    assert.match(second!.stderr, /error\[E0801\]: cannot attach xdp:\S+: XDP link on \S+: Device or resource busy/);
    assert.match(second!.stderr, /another XDP program is attached/);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(scalar(first.stdout, 'seen') >= 3, first.stdout);
    assertClean(p, p.b);
  });
});

test('unknown interface: E0420 names the interfaces there are, exit 2; capc list xdp:* and tc:* list them', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    const r = await runCapc(['run', '-e', `xdp:${p.b.dev}x { @ = count(); }`], { wrap: inNs(p.b) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E0420\]: unknown network interface/);
    assert.match(r.stderr, new RegExp(`did you mean '${p.b.dev}'`));
    const list = await runCapc(['list', 'xdp:*'], { wrap: inNs(p.b) });
    assert.equal(list.stdout, `xdp:${p.b.dev}\nxdp:lo\n`);
    const tc = await runCapc(['list', `tc:${p.b.dev}:*`], { wrap: inNs(p.b) });
    assert.equal(tc.stdout, `tc:${p.b.dev}:egress\ntc:${p.b.dev}:ingress\n`);
  });
});

test('tcp-health and drops: state changes and SYN retransmissions of a connection to an address nobody answers, and the drops behind them', async (t) => {
  if (!ready(t)) return;
  await withPair(async (p) => {
    // 10.77.0.3 resolves to b's MAC, but b does not own it: b drops the SYNs, a retransmits them.
    const mac = /link\/ether ([0-9a-f:]+)/.exec(p.link(p.b))![1]!;
    execFileSync('ip', ['-n', p.a.ns, 'neigh', 'add', '10.77.0.3', 'lladdr', mac, 'dev', p.a.dev]);
    const server = p.start(p.b, 'python3', [fixture('traffic.py'), 'tcp-server', p.b.ip4, '7001']);
    try {
      await waitReady(server);
      const connect =
        "import socket\ntry: socket.create_connection(('10.77.0.3', 7002), timeout=2.5)\nexcept OSError: pass";
      const run = (example: string, transfer: boolean) =>
        runCapc(['run', `examples/${example}`], {
          timeoutMs: 90000,
          onAttached: async (pid) => {
            if (transfer) p.exec(p.a, 'python3', [fixture('traffic.py'), 'tcp-client', p.b.ip4, '7001', '1000']);
            p.exec(p.a, 'python3', ['-c', connect]);
            await sleep(300);
            process.kill(pid, 'SIGINT');
          },
        });
      const health = await run('tcp-health.cap', true);
      assert.equal(health.code, 0, health.stderr);
      // The transfer: SYN_SENT (2) -> ESTABLISHED (1) at the client, and on to CLOSE (7) at both ends.
      assert.match(health.stdout, /^10\.77\.0\.1:\d+ -> 10\.77\.0\.2:7001 {2}7 -> 2$/m, health.stdout);
      assert.match(health.stdout, /^10\.77\.0\.1:\d+ -> 10\.77\.0\.2:7001 {2}2 -> 1$/m);
      // The unanswered SYN is sent again after 1 s and 2 s.
      const retrans = /^@retransmits\[10\.77\.0\.3, 7002\]: (\d+)$/m.exec(health.stdout);
      assert.ok(retrans && Number(retrans[1]) >= 1, health.stdout);
      const drops = await run('drops.cap', false);
      assert.equal(drops.code, 0, drops.stderr);
      // Drops of every namespace are counted; ours are among them (IPv4, protocol 0x0800 = 2048).
      assert.match(drops.stdout, /^@drops\[\d+, 2048\]: \d+$/m, drops.stdout);
    } finally {
      server.kill('SIGKILL');
    }
  });
});

test('IPv6 at XDP: echo requests and UDP datagrams with their addresses and ports, the transport found after the fixed header', async (t) => {
  if (!ready(t)) return;
  await withPair(
    async (p) => {
      const prog = `xdp:${p.b.dev} /pkt.ipv6/ {
  @six[ntop(pkt.ipv6.saddr), ntop(pkt.ipv6.daddr), pkt.ipv6.proto, pkt.icmp.type, pkt.udp.dport] = count();
  @bytes[pkt.ipv6.proto] = sum(pkt.ipv6.plen);
}`;
      const send = `import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\nfor _ in range(5): s.sendto(b'x' * 10, ('${p.b.ip6}', 5353))`;
      const r = await runCapc(['run', '-e', prog], {
        wrap: inNs(p.b),
        timeoutMs: 90000,
        onAttached: async (pid) => {
          p.exec(p.a, 'ping', ['-6', '-c', '4', '-i', '0.05', '-q', p.b.ip6]);
          p.exec(p.a, 'python3', ['-c', send]);
          await sleep(300);
          process.kill(pid, 'SIGINT');
        },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^@six\[fd77::1, fd77::2, 58, 128, 0\]: 4$/m, r.stdout);
      assert.match(r.stdout, /^@six\[fd77::1, fd77::2, 17, 0, 5353\]: 5$/m);
      // UDP over IPv6: plen is the 8-byte header and 10 bytes of data.
      assert.match(r.stdout, /^@bytes\[17\]: 90$/m);
      assertClean(p, p.b);
    },
    { ipv6: true },
  );
});
