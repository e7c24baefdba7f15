// runtime/ui/view-state.ts — what the screen is showing and how keys change
// it, as a pure reducer (no Ink, no timers) so every key can be tested on its
// own. Keys that mean nothing in the current pane return the state unchanged.
// Effects (quit, clear the maps, save, freeze the view) are returned for the
// App to carry out.

export const PANES = ['events', 'maps', 'streams', 'probes', 'queries'] as const;
export type Pane = (typeof PANES)[number];
export const PANE_TITLES: Record<Pane, string> = {
  events: 'Events',
  maps: 'Maps',
  streams: 'Streams',
  probes: 'Probes',
  queries: 'Queries',
};

export interface ViewState {
  pane: Pane;
  /** The panes are frozen (space, or scrolling back in the events pane); capture goes on. */
  paused: boolean;
  pausedByScroll: boolean;
  help: boolean;
  hex: boolean;
  /** The filter in force, and the one being typed after `/`. */
  filter: string;
  editing: string | undefined;
  /** events: lines up from the newest; the others: lines down from the top. */
  scroll: Record<Pane | 'conversation' | 'query', number>;
  /** Selected row of the streams list, and the connection whose conversation is open. */
  selected: number;
  open: number | undefined;
  /** Selected row of the queries list, and the exchange shown in full (its seq). */
  querySelected: number;
  queryOpen: number | undefined;
  quitting: boolean;
}

/** The parts of Ink's Key the reducer uses. */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

/** What the App knows about the current content, so scrolling stops at its ends. */
export interface KeyContext {
  /** Rows the pane body has. */
  page: number;
  /** Largest useful scroll value in the current pane (or open conversation). */
  maxScroll: number;
  /** Connection ids in the streams list, in display order. */
  streamIds: number[];
  /** Exchange seqs in the queries list, in display order. */
  queryIds?: number[];
}

export type Effect = 'quit' | 'clear-maps' | 'save' | 'freeze' | 'thaw';

export function initialView(hex = false, pane: Pane = 'events'): ViewState {
  return {
    pane,
    paused: false,
    pausedByScroll: false,
    help: false,
    hex,
    filter: '',
    editing: undefined,
    scroll: { events: 0, maps: 0, streams: 0, probes: 0, queries: 0, conversation: 0, query: 0 },
    selected: 0,
    open: undefined,
    querySelected: 0,
    queryOpen: undefined,
    quitting: false,
  };
}

const clamp = (v: number, max: number) => Math.max(0, Math.min(v, Math.max(0, max)));

export function onKey(
  s: ViewState,
  input: string,
  key: KeyInfo,
  ctx: KeyContext,
): { state: ViewState; effects: Effect[] } {
  const same = { state: s, effects: [] as Effect[] };
  if (s.quitting) return same;
  if (key.ctrl && input === 'c') return { state: { ...s, quitting: true }, effects: ['quit'] };
  if (s.editing !== undefined) return { state: editFilter(s, input, key), effects: [] };
  if (s.help) {
    if (input === 'q') return { state: { ...s, quitting: true }, effects: ['quit'] };
    return { state: { ...s, help: false }, effects: [] };
  }
  if (key.ctrl || (key.meta && !key.escape)) return same;

  if (input === 'q') return { state: { ...s, quitting: true }, effects: ['quit'] };
  if (input === '?') return { state: { ...s, help: true }, effects: [] };
  if (key.tab) {
    const i = PANES.indexOf(s.pane);
    return { state: { ...s, pane: PANES[(i + (key.shift ? PANES.length - 1 : 1)) % PANES.length]! }, effects: [] };
  }
  if (/^[1-5]$/.test(input)) return { state: { ...s, pane: PANES[Number(input) - 1]! }, effects: [] };
  if (input === ' ') {
    const paused = !s.paused;
    return {
      state: { ...s, paused, pausedByScroll: false, scroll: paused ? s.scroll : { ...s.scroll, events: 0 } },
      effects: [paused ? 'freeze' : 'thaw'],
    };
  }
  if (input === '/') return { state: { ...s, editing: s.filter }, effects: [] };
  if (input === 's') return { state: s, effects: ['save'] };
  if (input === 'x')
    return s.pane === 'events' || s.pane === 'streams' ? { state: { ...s, hex: !s.hex }, effects: [] } : same;
  if (input === 'c') return s.pane === 'maps' ? { state: s, effects: ['clear-maps'] } : same;
  if (key.escape) {
    if (s.pane === 'streams' && s.open !== undefined) return { state: { ...s, open: undefined }, effects: [] };
    if (s.pane === 'queries' && s.queryOpen !== undefined)
      return { state: { ...s, queryOpen: undefined }, effects: [] };
    if (s.filter) return { state: { ...s, filter: '' }, effects: [] };
    return same;
  }
  if (s.pane === 'streams' && s.open === undefined) return streamsListKey(s, input, key, ctx);
  if (s.pane === 'streams' && (key.leftArrow || key.backspace || key.delete))
    return { state: { ...s, open: undefined }, effects: [] };
  if (s.pane === 'queries' && s.queryOpen === undefined) return queriesListKey(s, input, key, ctx);
  if (s.pane === 'queries' && (key.leftArrow || key.backspace || key.delete))
    return { state: { ...s, queryOpen: undefined }, effects: [] };
  const delta = scrollDelta(input, key, ctx.page);
  if (delta === undefined) return same;
  if (s.pane === 'queries') return scrollDown(s, 'query', delta, ctx);
  return s.pane === 'events'
    ? scrollEvents(s, delta, ctx)
    : scrollDown(s, s.pane === 'streams' ? 'conversation' : s.pane, delta, ctx);
}

/** Lines to move down (negative: up), or undefined for a key that does not scroll. Infinity: to the end. */
function scrollDelta(input: string, key: KeyInfo, page: number): number | undefined {
  if (key.downArrow || input === 'j') return 1;
  if (key.upArrow || input === 'k') return -1;
  if (key.pageDown) return Math.max(1, page - 1);
  if (key.pageUp) return -Math.max(1, page - 1);
  if (key.home || input === 'g') return -Infinity;
  if (key.end || input === 'G') return Infinity;
  return undefined;
}

/** The events pane counts lines up from the newest: scrolling back freezes it, coming back to the end thaws it. */
function scrollEvents(s: ViewState, down: number, ctx: KeyContext): { state: ViewState; effects: Effect[] } {
  const up = clamp(s.scroll.events - down, ctx.maxScroll);
  if (up === s.scroll.events) return { state: s, effects: [] };
  if (up > 0 && !s.paused)
    return {
      state: { ...s, paused: true, pausedByScroll: true, scroll: { ...s.scroll, events: up } },
      effects: ['freeze'],
    };
  if (up === 0 && s.pausedByScroll)
    return {
      state: { ...s, paused: false, pausedByScroll: false, scroll: { ...s.scroll, events: 0 } },
      effects: ['thaw'],
    };
  return { state: { ...s, scroll: { ...s.scroll, events: up } }, effects: [] };
}

function scrollDown(
  s: ViewState,
  which: Pane | 'conversation' | 'query',
  down: number,
  ctx: KeyContext,
): { state: ViewState; effects: Effect[] } {
  const v = clamp(s.scroll[which] + down, ctx.maxScroll);
  return v === s.scroll[which]
    ? { state: s, effects: [] }
    : { state: { ...s, scroll: { ...s.scroll, [which]: v } }, effects: [] };
}

function streamsListKey(
  s: ViewState,
  input: string,
  key: KeyInfo,
  ctx: KeyContext,
): { state: ViewState; effects: Effect[] } {
  const n = ctx.streamIds.length;
  if (key.return || key.rightArrow) {
    const id = ctx.streamIds[clamp(s.selected, n - 1)];
    return id === undefined
      ? { state: s, effects: [] }
      : { state: { ...s, open: id, scroll: { ...s.scroll, conversation: 0 } }, effects: [] };
  }
  const delta = scrollDelta(input, key, ctx.page);
  if (delta === undefined || n === 0) return { state: s, effects: [] };
  const selected = clamp(s.selected + (Number.isFinite(delta) ? delta : delta > 0 ? n : -n), n - 1);
  return selected === s.selected ? { state: s, effects: [] } : { state: { ...s, selected }, effects: [] };
}

function queriesListKey(
  s: ViewState,
  input: string,
  key: KeyInfo,
  ctx: KeyContext,
): { state: ViewState; effects: Effect[] } {
  const ids = ctx.queryIds ?? [];
  const n = ids.length;
  if (key.return || key.rightArrow) {
    const id = ids[clamp(s.querySelected, n - 1)];
    return id === undefined
      ? { state: s, effects: [] }
      : { state: { ...s, queryOpen: id, scroll: { ...s.scroll, query: 0 } }, effects: [] };
  }
  const delta = scrollDelta(input, key, ctx.page);
  if (delta === undefined || n === 0) return { state: s, effects: [] };
  const querySelected = clamp(s.querySelected + (Number.isFinite(delta) ? delta : delta > 0 ? n : -n), n - 1);
  return querySelected === s.querySelected
    ? { state: s, effects: [] }
    : { state: { ...s, querySelected }, effects: [] };
}

function editFilter(s: ViewState, input: string, key: KeyInfo): ViewState {
  const text = s.editing ?? '';
  if (key.return)
    return { ...s, editing: undefined, filter: text.trim(), scroll: { ...s.scroll, events: 0 }, selected: 0 };
  if (key.escape) return { ...s, editing: undefined };
  if (key.backspace || key.delete) return { ...s, editing: text.slice(0, -1) };
  if (key.ctrl && input === 'u') return { ...s, editing: '' };
  if (
    key.ctrl ||
    key.meta ||
    key.tab ||
    key.upArrow ||
    key.downArrow ||
    key.leftArrow ||
    key.rightArrow ||
    key.pageUp ||
    key.pageDown
  )
    return s;
  // Printable text only (a paste arrives as one string); the filter stays one line.
  const add = input.replace(/[\x00-\x1f\x7f]/g, '');
  return add ? { ...s, editing: (text + add).slice(0, 200) } : s;
}
