// bench/workloads/node-frag.cjs — tls-frag.c in node (its built-in OpenSSL):
// one TLS connection over loopback in one process, the client writes WRITES
// chunks of FRAG_BYTES (each write waits for the previous to be handed to
// TLS, so each is its own SSL_write), the server reads and discards.
//   node node-frag.cjs CERT KEY WRITES FRAG_BYTES
// Prints: "writes W bytes B seconds S writes_per_sec R".
const tls = require('node:tls');
const fs = require('node:fs');
const [cert, key, writesArg, sizeArg] = process.argv.slice(2);
const writes = Number(writesArg);
const size = Number(sizeArg);
const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (s) => {
  s.on('data', () => {});
  s.on('end', () => server.close());
});
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ host: '127.0.0.1', port: server.address().port, rejectUnauthorized: false }, async () => {
    const msg = Buffer.alloc(size, 'a');
    const t0 = process.hrtime.bigint();
    for (let w = 0; w < writes; w++) {
      msg[0] = 48 + (w % 10);
      if (!c.write(Buffer.from(msg))) await new Promise((r) => c.once('drain', r));
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    c.end(() => {
      console.log(
        `writes ${writes} bytes ${writes * size} seconds ${secs.toFixed(3)} writes_per_sec ${(writes / secs).toFixed(0)}`,
      );
    });
  });
});
