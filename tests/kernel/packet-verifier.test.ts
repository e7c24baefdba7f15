// tests/kernel/packet-verifier.test.ts — packet probes on the real verifier:
// every construct of `pkt` (each header, its fields, the parse as deep as
// DNS, pkt.data[i] and pkt.payload[i], IPv6 addresses through ntop()) loads
// at XDP and at tc in both directions, and so do the emit samples. The
// negative control: without R12 (the header pointers set without their
// data_end check) the kernel rejects the program. The interface is `lo`,
// which every network namespace has; nothing is attached here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireKernel } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';
import { loadIntoVerifier } from '../support/verifier.js';

const HOOKS = ['xdp:lo', 'tc:lo:ingress', 'tc:lo:egress'];

const CONSTRUCTS: Record<string, string> = {
  length: '@[pkt.len, pkt.ifindex] = count();',
  ethernet: '@[pkt.ethernet.src, pkt.ethernet.dst, pkt.ethernet.proto] = count();',
  vlan: 'if (pkt.vlan) { @[pkt.vlan.id, pkt.vlan.pcp, pkt.vlan.proto] = count(); }',
  ipv4: '@[ntop(pkt.ipv4.saddr), ntop(pkt.ipv4.daddr), pkt.ipv4.proto, pkt.ipv4.ttl, pkt.ipv4.ihl, pkt.ipv4.len] = count();',
  ipv6: '@[ntop(pkt.ipv6.saddr), ntop(pkt.ipv6.daddr), pkt.ipv6.proto, pkt.ipv6.nexthdr, pkt.ipv6.flow] = count();',
  tcp: '@[pkt.tcp.sport, pkt.tcp.dport, pkt.tcp.seq, pkt.tcp.ack_seq, pkt.tcp.doff, pkt.tcp.flags, pkt.tcp.syn, pkt.tcp.window] = count();',
  udp: '@[pkt.udp.sport, pkt.udp.dport, pkt.udp.len] = count();',
  icmp: '@[pkt.icmp.type, pkt.icmp.code, pkt.icmp.id, pkt.icmp.seq] = count();',
  dns: '@[pkt.dns.id, pkt.dns.qr, pkt.dns.opcode, pkt.dns.rcode, pkt.dns.qdcount, pkt.dns.qname, pkt.dns.qtype, pkt.dns.qclass] = count();',
  bytes: '$i = 0; while ($i < 16) { @[pkt.data[$i], pkt.payload[$i]] = count(); $i++; }',
  printf:
    'if (pkt.udp) { printf("%s %d -> %d %s\\n", ntop(pkt.ipv4.saddr), pkt.udp.sport, pkt.udp.dport, pkt.dns.qname); }',
};

for (const [name, body] of Object.entries(CONSTRUCTS)) {
  test(`packet construct '${name}' loads at xdp and at tc ingress and egress`, async (t) => {
    if (!requireKernel(t)) return;
    for (const hook of HOOKS) {
      const r = await loadIntoVerifier(`${hook} { ${body} }`);
      assert.ok(r.ok, `${hook} { ${body} }\n${r.report}`);
    }
  });
}

// Every header read in one body, the parse as deep as DNS. The verifier walks
// the body once per way the parse can end (which headers are there), so its
// cost is that count times the body: adding the 16-step byte loop of 'bytes'
// to this one passes the verifier's million-instruction budget.
test('every header construct together in one program loads', async (t) => {
  if (!requireKernel(t)) return;
  for (const hook of HOOKS) {
    const all = Object.entries(CONSTRUCTS)
      .filter(([name]) => name !== 'bytes')
      .map(([name, body]) => body.replace(/@\[/g, `@${name}[`));
    const r = await loadIntoVerifier(`${hook} { ${all.join(' ')} }`);
    assert.ok(r.ok, r.report);
  }
});

test('the packet emit samples load', async (t) => {
  if (!requireKernel(t)) return;
  for (const sample of ['packets-xdp-flow', 'packets-tc-dns']) {
    const text = fs
      .readFileSync(path.join(repoRoot, 'tests/samples/emit', sample, 'input.cap'), 'utf8')
      .replace(/\beth0\b/g, 'lo');
    const r = await loadIntoVerifier(text);
    assert.ok(r.ok, `${sample}\n${r.report}`);
  }
});

test('negative control: without R12 the kernel rejects a packet read', async (t) => {
  if (!requireKernel(t)) return;
  for (const hook of ['xdp:lo', 'tc:lo:ingress']) {
    const prog = `${hook} { @[pkt.ethernet.proto, pkt.udp.dport] = count(); }`;
    const ok = await loadIntoVerifier(prog);
    assert.ok(ok.ok, ok.report);
    const r = await loadIntoVerifier(prog, { omitRules: ['R12'] });
    assert.equal(r.ok, false, 'loaded without R12');
    assert.match(r.report, /error\[E0701\]: the kernel verifier rejected/);
    assert.match(r.report, /invalid access to packet/);
  }
});
