// runtime/ui/App.tsx — the terminal UI's root: lays out the header (2 rows),
// the pane tabs, the current pane, a status line and the stats bar (3 rows)
// in the terminal's size (rows - 1, so Ink never falls back to clearing the
// whole screen), turns keys into view changes (view-state.ts) and carries
// out their effects.
// It redraws from the store on its own timer (at most every refreshMs, and
// only when something changed): the session's drain loop never waits for it.
import { Box, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import type { MapSnapshot } from '../events/model.js';
import { mapText } from '../format/maps.js';
import { EventsPane } from './EventsPane.js';
import { Header } from './Header.js';
import { Help } from './Help.js';
import { conversationLines, connMatchesFilter, parseFilter, type Line } from './lines.js';
import { MapsPane } from './MapsPane.js';
import { eventsWindow, frozenSource, mapsLines, probeLines } from './panes.js';
import { ProbesPane } from './ProbesPane.js';
import { saveStreams, saveText } from './save.js';
import { computeStats } from './stats.js';
import { StatsBar } from './StatsBar.js';
import { StatusLine } from './StatusLine.js';
import type { Entry, UiStore } from './store.js';
import type { Chunk, ConnView } from './stream-book.js';
import { StreamsPane } from './StreamsPane.js';
import { QueriesPane } from './QueriesPane.js';
import { exchangeDetail, fingerprintLines, FINGERPRINT_HEADER, queryRow } from './query-book.js';
import { Tabs } from './Tabs.js';
import { makeTheme, ThemeContext } from './theme.js';
import { MIN_COLS, MIN_ROWS, TooSmall } from './TooSmall.js';
import {
  initialView,
  onKey,
  type Effect,
  type KeyContext,
  type KeyInfo,
  type Pane,
  type ViewState,
} from './view-state.js';

export interface AppProps {
  store: UiStore;
  /** The script's name and what it traces (`-c CMD`, `-p PID`, or all processes). */
  script: string;
  target: string;
  startedAt: number;
  onQuit: () => void;
  cpus: number;
  color: boolean;
  hex?: boolean;
  /** Where `s` writes its files. */
  saveDir: string;
  /** A fixed size (tests); otherwise the terminal's, following resizes. */
  size?: { cols: number; rows: number };
  refreshMs?: number;
  now?: () => number;
  /** The pane shown first (a program with only maps opens on Maps; a decoding one on Queries). */
  initialPane?: Pane;
}

/** What a paused view keeps showing while the store moves on. */
interface Frozen {
  entries: Entry[];
  maps: MapSnapshot[];
  conns: { conn: ConnView; chunks: Chunk[] }[];
  events: number;
}

function freeze(store: UiStore): Frozen {
  return {
    entries: store.entries(),
    maps: store.maps,
    conns: store.streams.list().map((c) => ({
      conn: { ...c, bytes: [c.bytes[0], c.bytes[1]], lost: [c.lost[0], c.lost[1]] },
      chunks: store.streams.chunks(c),
    })),
    events: store.events,
  };
}

const MESSAGE_MS = 6000;

/** Big maps are read less often (runtime/session/snapshot.ts): say how old what is shown is. */
function mapsAge(store: UiStore, now: number): Line[] {
  const a = store.mapsAt;
  if (!a || a.readMs < 50) return [];
  return [
    {
      text: `read ${((now - a.at) / 1000).toFixed(0)} s ago; reading takes ${a.readMs.toFixed(0)} ms, so the maps are read every ${((20 * a.readMs) / 1000).toFixed(0)} s`,
      tone: 'dim',
    },
  ];
}

export function App(p: AppProps) {
  const now = p.now ?? Date.now;
  const { stdout } = useStdout();
  const [termSize, setTermSize] = useState(() => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 }));
  useEffect(() => {
    if (p.size) return;
    const onResize = () => setTermSize({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, p.size]);
  const { cols, rows } = p.size ?? termSize;

  const [view, setView] = useState<ViewState>(() => initialView(p.hex, p.initialPane));
  const viewRef = useRef(view);
  const frozen = useRef<Frozen | undefined>(undefined);
  const ctx = useRef<KeyContext>({ page: 1, maxScroll: 0, streamIds: [], queryIds: [] });
  const [message, setMessage] = useState<{ text: string; at: number } | undefined>(undefined);
  const [, setFrame] = useState(0);

  // Redraw on a timer, only when the store changed or the clock moved a second.
  useEffect(() => {
    let version = -1;
    let second = -1;
    const t = setInterval(() => {
      const s = Math.floor(now() / 1000);
      if (p.store.version === version && s === second) return;
      version = p.store.version;
      second = s;
      setFrame((f) => f + 1);
    }, p.refreshMs ?? 100);
    t.unref(); // the session keeps the process alive, not the screen
    return () => clearInterval(t);
  }, [p.store, p.refreshMs]);

  const say = (text: string) => setMessage({ text, at: now() });
  const conversationCache = useRef<{ key: string; lines: Line[] } | undefined>(undefined);

  const runEffect = (e: Effect) => {
    if (e === 'quit') p.onQuit();
    else if (e === 'freeze') frozen.current = freeze(p.store);
    else if (e === 'thaw') frozen.current = undefined;
    else if (e === 'clear-maps') {
      if (!p.store.controls) return say('the maps cannot be cleared: the session has no controls yet');
      const r = p.store.controls.clearMaps();
      p.store.clearShownMaps();
      if (frozen.current) frozen.current.maps = p.store.maps;
      say(
        `cleared ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} from ${r.maps} map${r.maps === 1 ? '' : 's'} (in the kernel too)`,
      );
    } else if (e === 'save') {
      try {
        say(save());
      } catch (err) {
        say(`cannot save: ${(err as Error).message}`);
      }
    }
  };

  const tooSmall = cols < MIN_COLS || rows < MIN_ROWS;
  const tooSmallRef = useRef(tooSmall);
  tooSmallRef.current = tooSmall;
  useInput((input, key) => {
    let s = viewRef.current;
    // Too small to show anything: only quitting means something.
    if (tooSmallRef.current && !(input === 'q' || (key.ctrl && input === 'c'))) return;
    const effects: Effect[] = [];
    // Several plain keys can arrive in one read (typed fast, or sent by tmux): one at a time, except into the filter.
    const keys = input.length > 1 && s.editing === undefined && !key.ctrl && !key.meta ? [...input] : [input];
    for (const k of keys) {
      const r = onKey(s, k, key as KeyInfo, ctx.current);
      s = r.state;
      effects.push(...r.effects);
    }
    viewRef.current = s;
    for (const e of effects) runEffect(e);
    setView(s);
  });

  // The session reads the maps live only while they are on screen.
  useEffect(() => {
    p.store.mapsWanted = view.pane === 'maps';
  }, [p.store, view.pane]);

  const theme = useMemo(() => makeTheme(p.color), [p.color]);
  const stats = useMemo(
    () => computeStats(p.store, p.cpus, p.startedAt),
    [p.store.snap, p.store.prevSnap, p.cpus, p.startedAt],
  );
  const filter = useMemo(() => parseFilter(view.filter), [view.filter]);

  if (tooSmall) return <TooSmall cols={cols} rows={rows} />;

  const width = cols;
  const bodyH = rows - 8;
  const fz = view.paused ? frozen.current : undefined;
  const maps = fz ? fz.maps : p.store.maps;
  const conns = () =>
    (fz ? fz.conns.map((c) => c.conn) : p.store.streams.list()).filter((c) => connMatchesFilter(c.info, filter));
  const chunksOf = (c: ConnView) =>
    fz ? (fz.conns.find((x) => x.conn.info.id === c.info.id)?.chunks ?? []) : p.store.streams.chunks(c);
  const conversation = (c: ConnView): Line[] => {
    const k = `${c.info.id}:${c.version}:${view.hex}:${fz ? 'paused' : 'live'}`;
    if (conversationCache.current?.key !== k)
      conversationCache.current = { key: k, lines: conversationLines(chunksOf(c), view.hex, c.droppedBytes) };
    return conversationCache.current.lines;
  };

  /** Text of the current pane, for `s`. */
  function save(): string {
    const v = viewRef.current;
    if (v.pane === 'events') {
      const all = eventsWindow(fz ? frozenSource(fz.entries) : p.store, {
        filter,
        hex: v.hex,
        height: Number.MAX_SAFE_INTEGER,
        scroll: 0,
        all: true,
      });
      return `saved ${all.matched} events to ${saveText(p.saveDir, 'events', all.lines.map((l) => l.text).join('\n') + '\n')}`;
    }
    if (v.pane === 'maps')
      return `saved the maps to ${saveText(p.saveDir, 'maps', Buffer.concat(maps.filter((m) => m.entries.length).map((m) => mapText(m))))}`;
    if (v.pane === 'queries') {
      const x = v.queryOpen !== undefined ? p.store.queries.get(v.queryOpen) : undefined;
      const lines = x
        ? exchangeDetail(x)
        : [
            { text: FINGERPRINT_HEADER, tone: 'dim' as const },
            ...fingerprintLines(p.store.queries.table(), 1000),
            { text: '', tone: 'dim' as const },
            ...p.store.queries.latest(5000).map((it) => queryRow(it, false, 100000)),
          ];
      return `saved ${x ? 'the exchange' : 'the queries'} to ${saveText(p.saveDir, 'queries', lines.map((l) => l.text).join('\n') + '\n')}`;
    }
    if (v.pane === 'probes')
      return `saved the probe statistics to ${saveText(
        p.saveDir,
        'probes',
        probeLines(stats.probes, 120, p.store.tlsStacks)
          .map((l) => l.text)
          .join('\n') + '\n',
      )}`;
    const list = conns();
    const open = list.find((c) => c.info.id === v.open);
    if (open)
      return `saved conn ${open.info.id} to ${saveText(
        p.saveDir,
        `conn${open.info.id}`,
        conversationLines(chunksOf(open), v.hex, open.droppedBytes)
          .map((l) => l.text)
          .join('\n') + '\n',
      )}`;
    if (!list.length) return 'no connection to save';
    return `saved ${list.length} connection${list.length === 1 ? '' : 's'} to ${saveStreams(
      p.saveDir,
      list.map((c) => ({ conn: c, chunks: chunksOf(c) })),
    )}/`;
  }

  let body: ReactElement;
  let maxScroll = 0;
  let streamIds: number[] = [];
  let queryIds: number[] = [];
  if (view.help) body = <Help width={width} height={bodyH} />;
  else if (view.pane === 'events') {
    const win = eventsWindow(fz ? frozenSource(fz.entries) : p.store, {
      filter,
      hex: view.hex,
      height: bodyH,
      scroll: view.scroll.events,
    });
    maxScroll = win.maxScroll;
    body = <EventsPane win={win} width={width} height={bodyH} filtered={!!filter} />;
  } else if (view.pane === 'maps') {
    const lines = [...mapsAge(p.store, now()), ...mapsLines(maps, width, filter)];
    maxScroll = lines.length - bodyH;
    body = (
      <MapsPane
        lines={lines}
        scroll={Math.min(view.scroll.maps, Math.max(0, maxScroll))}
        width={width}
        height={bodyH}
      />
    );
  } else if (view.pane === 'queries') {
    const book = p.store.queries;
    const open = view.queryOpen !== undefined ? book.get(view.queryOpen) : undefined;
    if (open) {
      const lines = exchangeDetail(open);
      maxScroll = lines.length - (bodyH - 1);
      body = (
        <QueriesPane
          book={book}
          decoding
          items={[]}
          selected={0}
          open={{
            title: `exchange ${view.queryOpen! + 1} of ${book.seq} · Esc back`,
            lines,
            scroll: Math.min(view.scroll.query, Math.max(0, maxScroll)),
          }}
          width={width}
          height={bodyH}
        />
      );
    } else {
      const items = book.latest(1000);
      queryIds = items.map((it) => it.seq);
      body = (
        <QueriesPane
          book={book}
          decoding={p.store.decoding}
          items={items}
          selected={Math.min(view.querySelected, Math.max(0, items.length - 1))}
          width={width}
          height={bodyH}
        />
      );
    }
  } else if (view.pane === 'probes') {
    const lines = probeLines(stats.probes, width, p.store.tlsStacks);
    maxScroll = lines.length - bodyH;
    body = (
      <ProbesPane
        lines={lines}
        scroll={Math.min(view.scroll.probes, Math.max(0, maxScroll))}
        width={width}
        height={bodyH}
      />
    );
  } else {
    const list = conns();
    streamIds = list.map((c) => c.info.id);
    const selected = Math.min(view.selected, Math.max(0, list.length - 1));
    const openConn = view.open === undefined ? undefined : list.find((c) => c.info.id === view.open);
    let open;
    if (openConn) {
      const lines = conversation(openConn);
      maxScroll = lines.length - (bodyH - 1);
      open = { conn: openConn, lines, scroll: Math.min(view.scroll.conversation, Math.max(0, maxScroll)) };
    }
    const capturing = !!p.store.snap?.s.counters.some((c) => c.kind === 'capture-drop-records') || list.length > 0;
    body = (
      <StreamsPane conns={list} selected={selected} open={open} capturing={capturing} width={width} height={bodyH} />
    );
  }
  ctx.current = { page: bodyH, maxScroll: Math.max(0, maxScroll), streamIds, queryIds };

  const stopping = view.quitting || p.store.stopping || p.store.ended;
  const shownMessage = message && now() - message.at < MESSAGE_MS ? message.text : undefined;
  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={width} height={rows - 1}>
        <Header
          script={p.script}
          target={p.target}
          state={stopping ? 'stopping' : view.paused ? 'paused' : 'running'}
          uptimeMs={now() - p.startedAt}
          probes={stats.probes}
          attached={p.store.probes}
          width={width}
        />
        <Tabs pane={view.pane} paused={view.paused} newSincePause={fz ? p.store.events - fz.events : 0} width={width} />
        {body}
        <StatusLine
          pane={view.pane}
          editing={view.editing}
          filter={view.filter}
          message={shownMessage}
          stopping={stopping}
          width={width}
        />
        <StatsBar stats={stats} width={width} />
      </Box>
    </ThemeContext.Provider>
  );
}
