// runtime/ui/QueriesPane.tsx — decoded exchanges (--decode): per fingerprint
// the count, errors, p50/p99 latency and rows, above the live list of the
// latest exchanges; Enter shows the selected one in full.
import { Box, Text } from 'ink';
import { fit } from './format.js';
import { LineList } from './LineList.js';
import type { Line } from './lines.js';
import { FINGERPRINT_HEADER, fingerprintLines, queryRow, type QueryBook, type QueryItem } from './query-book.js';

export interface QueriesPaneProps {
  book: QueryBook;
  decoding: boolean;
  /** The latest exchanges shown in the list (newest first) and the selected row. */
  items: QueryItem[];
  selected: number;
  /** The open exchange's lines, if one is open. */
  open?: { title: string; lines: Line[]; scroll: number };
  width: number;
  height: number;
}

export function QueriesPane(p: QueriesPaneProps) {
  if (p.open)
    return (
      <Box flexDirection="column" width={p.width}>
        <Text bold wrap="truncate">
          {fit(p.open.title, p.width)}
        </Text>
        <LineList lines={p.open.lines.slice(p.open.scroll)} width={p.width} height={p.height - 1} />
      </Box>
    );
  const tableH = Math.max(3, Math.floor((p.height - 2) * 0.4));
  const listH = p.height - tableH - 2;
  const table = fingerprintLines(p.book.table(), p.width);
  const first = Math.max(0, Math.min(p.selected - Math.floor(listH / 2), p.items.length - listH));
  const rows = p.items.slice(first, first + listH).map((it, i) => queryRow(it, first + i === p.selected, p.width));
  const empty = p.decoding
    ? 'no exchange decoded yet'
    : 'nothing is decoded: run with --decode auto, or end a capture with -> decode';
  return (
    <Box flexDirection="column" width={p.width}>
      <Text dimColor wrap="truncate">
        {fit(FINGERPRINT_HEADER, p.width)}
      </Text>
      <LineList lines={table} width={p.width} height={tableH} empty={empty} />
      <Text dimColor wrap="truncate">
        {fit(
          `latest ${p.items.length} of ${p.book.seq} exchanges · ${p.book.errors} errors · ${p.book.notDecoded} not decoded · Enter: the whole exchange`,
          p.width,
        )}
      </Text>
      <LineList lines={rows} width={p.width} height={listH} />
    </Box>
  );
}
