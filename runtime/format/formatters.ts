// runtime/format/formatters.ts — the formatting layer's side of the
// decoders' seam (runtime/events/formatters.ts): one object the session
// hands to every decoder, so decoders never import runtime/format/.
import type { Formatters } from '../events/formatters.js';
import { compileFastPrintf } from './fast-printf.js';
import { jsonValue } from './maps.js';
import { formatBuf, formatPrintf } from './printf.js';
import { strftime } from './strftime.js';
import { valueJson, valueText } from './values.js';

export const FORMATTERS: Formatters = {
  printf: formatPrintf,
  compilePrintf: compileFastPrintf,
  strftime,
  jsonValue,
  bufText: (b) => formatBuf(b, 'r').toString('latin1'),
  valueText: (vt, b, style) => valueText(vt, b, style),
  valueJson: (vt, b) => valueJson(vt, b),
};
