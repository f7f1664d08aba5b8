// Pure formatting helpers (no DOM, no map): unit-tested in test/format.test.ts.

import type { Count } from './api';

/** What is shown for a value that is missing (null/undefined). */
export const NO_VALUE = '—';

/** The footer note on disclosure control. */
export const DISCLOSURE_NOTE = 'Counts below 10 are shown as <10; other counts rounded to the nearest 5.';

const LOCALE = 'en-GB';

/** True when a count was withheld by disclosure control (sent as a string such as "<10"). */
export function isSuppressed(v: Count | null | undefined): v is string {
  return typeof v === 'string';
}

/** A plain number with thousands separators and at most `maxFractionDigits` decimals. */
export function formatNumber(v: number | null | undefined, maxFractionDigits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  return v.toLocaleString(LOCALE, { maximumFractionDigits: maxFractionDigits });
}

/**
 * A count after disclosure control: numbers get thousands separators, suppressed counts
 * are shown as the server sent them ("<10"), missing ones as a dash.
 */
export function formatCount(v: Count | null | undefined): string {
  if (v === null || v === undefined) return NO_VALUE;
  if (typeof v === 'string') {
    const s = v.trim();
    return s === '' ? NO_VALUE : s;
  }
  return formatNumber(v, 0);
}

/** A rate per 1,000, one decimal place; null (suppressed or unknown) becomes a dash. */
export function formatRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  return v.toLocaleString(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** A 0-100 need score, one decimal place. */
export function formatScore(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  return v.toLocaleString(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** An indicator of unknown scale: whole numbers as counts, fractions with 2-3 decimals. */
export function formatIndicator(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  if (Number.isInteger(v)) return formatNumber(v, 0);
  return formatNumber(v, Math.abs(v) < 1 ? 3 : 2);
}

/** A number for a legend break: compact but distinct. */
export function formatBreak(v: number): string {
  if (!Number.isFinite(v)) return NO_VALUE;
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toLocaleString(LOCALE, { maximumFractionDigits: digits });
}

/** Words always written in capitals. */
const ACRONYMS = new Set(['simd', 'iz', 'dz', 'nhs', 'gp', 'hscp', 'cpp', 'id', 'sds', 'ons', 'uk']);

/**
 * "health_centre" -> "Health centre", "social-work office" -> "Social work office",
 * "iz2011" -> "IZ2011", "simd_rank" -> "SIMD rank".
 */
export function humanize(s: string | null | undefined): string {
  if (!s) return NO_VALUE;
  const words = s
    .replace(/[_-]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => (ACRONYMS.has(w.toLowerCase()) || /^[a-z]{1,3}\d{2,4}$/i.test(w) ? w.toUpperCase() : w));
  if (words.length === 0) return NO_VALUE;
  const out = words.join(' ');
  return out.charAt(0).toUpperCase() + out.slice(1);
}

/** Split a semicolon-separated list (premises services), trimming and dropping blanks. */
export function splitList(s: string | null | undefined): string[] {
  if (!s) return [];
  return s
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/**
 * Readable lines for an OpenStreetMap `opening_hours` value: one line per rule, split on
 * the `;` rule separator (but not inside a "quoted comment"), whitespace tidied.
 * The text of each rule is kept as written (it is the raw OSM value).
 * `null`/blank gives an empty list.
 */
export function formatOpeningHours(s: string | null | undefined): string[] {
  if (!s) return [];
  const rules: string[] = [];
  let current = '';
  let inQuote = false;
  for (const ch of s) {
    if (ch === '"') inQuote = !inQuote;
    if (ch === ';' && !inQuote) {
      rules.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  rules.push(current);
  return rules.map((r) => r.replace(/\s+/g, ' ').trim()).filter((r) => r.length > 0);
}

/** Label of a SIMD quintile: 1 is the most deprived, 5 the least. */
export function quintileLabel(q: number): string {
  if (q === 1) return '1 (most deprived)';
  if (q === 5) return '5 (least deprived)';
  return String(q);
}

/** Label of a SIMD decile: 1 is the most deprived, 10 the least. */
export function decileLabel(d: number): string {
  if (d === 1) return '1 (most deprived)';
  if (d === 10) return '10 (least deprived)';
  return String(d);
}

/** True for a usable [minLon, minLat, maxLon, maxLat] box in WGS84. */
export function isValidBbox(b: unknown): b is [number, number, number, number] {
  if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number' && Number.isFinite(x))) return false;
  const [w, s, e, n] = b as number[];
  return w >= -180 && e <= 180 && s >= -90 && n <= 90 && w <= e && s <= n;
}

/**
 * A short, URL-free description of a tile load error, so that the errors of many tiles
 * of one source read the same (and are shown once): MapLibre's AJAXError carries
 * `status` and `statusText`; anything else gives its message.
 */
export function describeTileError(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const { status, statusText, message } = e as { status?: unknown; statusText?: unknown; message?: unknown };
    if (typeof status === 'number' && status > 0) {
      return typeof statusText === 'string' && statusText ? `HTTP ${status} ${statusText}` : `HTTP ${status}`;
    }
    if (typeof message === 'string' && message) return message;
  }
  return e === undefined || e === null ? 'unknown error' : String(e);
}
