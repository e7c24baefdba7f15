// bench/workloads/node-floor.mjs — the least a Node program must do to run a
// capc-built object: start Node, load koffi and libbpf, open the object,
// load it into the kernel, attach its programs, say so on fd 3 ("attached"),
// and detach on SIGINT. No capc code runs. The start-up bench runs it beside
// capc and bpftrace to show what of capc's start-up is Node's and libbpf's,
// and what is capc's own. Usage: node node-floor.mjs OBJECT.o
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const triplet = `${process.platform}_${process.arch}`;
let koffi;
try {
  koffi = require(`koffi/build/koffi/${triplet}/koffi.node`); // as capc loads it (runtime/ffi/koffi.ts)
} catch {
  koffi = require('koffi');
}
const lib = koffi.load('libbpf.so.1');
const open = lib.func('void *bpf_object__open_file(const char *path, void *opts)');
const load = lib.func('int bpf_object__load(void *obj)');
const nextProgram = lib.func('void *bpf_object__next_program(void *obj, void *prev)');
const attach = lib.func('void *bpf_program__attach(void *prog)');
const destroy = lib.func('int bpf_link__destroy(void *link)');
const close = lib.func('void bpf_object__close(void *obj)');

const obj = open(process.argv[2], null);
if (!obj) throw new Error(`cannot open ${process.argv[2]}`);
if (load(obj) !== 0) throw new Error('load failed');
const links = [];
for (let p = nextProgram(obj, null); p; p = nextProgram(obj, p)) {
  const l = attach(p);
  if (l) links.push(l);
}
if (!links.length) throw new Error('nothing attached');
fs.writeSync(3, 'attached\n');
process.on('SIGINT', () => {
  for (const l of links) destroy(l);
  close(obj);
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
