// runtime/ui/StreamsPane.tsx — captured connections (bytes each way, loss
// markers, state); Enter opens one to read its reassembled conversation.
import { Box, Text } from 'ink';
import { identityText } from '../format/identity.js';
import { fit, shortProbe } from './format.js';
import { LineList } from './LineList.js';
import type { Line } from './lines.js';
import { STREAM_HEADER, streamRow } from './panes.js';
import type { ConnView } from './stream-book.js';
import { escapeText } from '../format/payload.js';

export interface StreamsPaneProps {
  conns: ConnView[];
  selected: number;
  /** The open connection and its conversation lines, if one is open. */
  open?: { conn: ConnView; lines: Line[]; scroll: number };
  capturing: boolean;
  width: number;
  height: number;
}

export function StreamsPane(p: StreamsPaneProps) {
  if (p.open) {
    const c = p.open.conn;
    const id = c.info.ident;
    const where = id ? `${identityText(id)} · ` : '';
    const fd = id && id.state === 'socket' ? ` · fd ${id.fd}` : '';
    const title = `${escapeText(c.info.comm)}[${c.info.pid}] conn ${c.info.id} · ${where}${c.state}${fd} · key 0x${c.info.key.toString(16)} · ${shortProbe(c.info.probe)}`;
    return (
      <Box flexDirection="column" width={p.width}>
        <Text bold wrap="truncate">
          {fit(title, p.width)}
        </Text>
        <LineList
          lines={p.open.lines.slice(p.open.scroll)}
          width={p.width}
          height={p.height - 1}
          empty="no bytes kept for this connection"
        />
      </Box>
    );
  }
  const rowsH = p.height - 1;
  // Keep the selected row in view.
  const first = Math.max(0, Math.min(p.selected - Math.floor(rowsH / 2), p.conns.length - rowsH));
  const rows = p.conns.slice(first, first + rowsH).map((c, i) => streamRow(c, first + i === p.selected));
  const empty = p.capturing ? 'no connection captured yet' : 'this script captures nothing (accumulate / capture)';
  return (
    <Box flexDirection="column" width={p.width}>
      <Text dimColor wrap="truncate">
        {fit(STREAM_HEADER, p.width)}
      </Text>
      <LineList lines={rows} width={p.width} height={rowsH} empty={empty} />
    </Box>
  );
}
