// runtime/bpf/attach-net.ts — attaches packet probes: `xdp:IFACE` as an XDP
// BPF link, `tc:IFACE:ingress|egress` as a tcx link (Linux 6.6+). Both are
// links, never the older netlink attachments (ip link set xdp, clsact
// filters): a link is a file descriptor, so when capc exits or is killed the
// kernel closes it and the program leaves the interface. A program that is
// already there (another tool's XDP program) is not replaced: the attach
// fails with a message that says so.
import type { ManifestProbe } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import { errno, native, strerror, type Ptr } from '../ffi/libbpf.js';
import type { Link } from './attach.js';

/** enum bpf_attach_type (uapi/linux/bpf.h). */
const BPF_XDP = 37;
const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;

export function attachPacketProbe(probe: ManifestProbe, prog: Ptr): Link {
  const a = probe.attach;
  if (a.kind !== 'xdp' && a.kind !== 'tc') throw new Error('internal: not a packet probe');
  const n = native();
  const ifindex = Number(n.if_nametoindex(a.iface));
  if (!ifindex)
    throw new CapcError(
      'E0801',
      `cannot attach ${probe.spec}: interface ${a.iface} is gone`,
      ['it existed when the program was compiled; capc list xdp:* lists the interfaces there are now'],
      probe.span,
    );
  const type = a.kind === 'xdp' ? BPF_XDP : a.direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
  const rc = Number(n.link_create(n.program_fd(prog), ifindex, type, null));
  if (rc < 0) throw netAttachError(probe, a.kind, a.iface, -rc || errno());
  let fd = rc;
  return {
    probe,
    destroy() {
      if (fd >= 0) n.close(fd);
      fd = -1;
    },
    destroyAsync() {
      this.destroy();
      return Promise.resolve();
    },
  };
}

function netAttachError(probe: ManifestProbe, kind: 'xdp' | 'tc', iface: string, err: number): CapcError {
  const hints: string[] = [];
  if (err === 16 /* EBUSY */ || err === 17 /* EEXIST */)
    hints.push(
      kind === 'xdp'
        ? `another XDP program is attached to ${iface} (ip link show ${iface}); capc does not replace it`
        : `another program holds the tc hook of ${iface}`,
    );
  if (kind === 'tc' && (err === 22 /* EINVAL */ || err === 95) /* EOPNOTSUPP */)
    hints.push('tc probes attach through tcx, which needs Linux 6.6 or later');
  if (err === 1 || err === 13) hints.push('permission denied: run capc as root');
  return new CapcError(
    'E0801',
    `cannot attach ${probe.spec}: ${kind === 'xdp' ? 'XDP link' : 'tcx link'} on ${iface}: ${strerror(err)}`,
    hints,
    probe.span,
  );
}
