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

// ---------------------------------------------------------------- access

/**
 * A whole number of minutes for legend breaks: "45 min", "1 h", "1 h 30 min", "2 h".
 * Fractions are rounded to the nearest minute.
 */
export function formatMinutes(min: number | null | undefined): string {
  if (min === null || min === undefined || !Number.isFinite(min)) return NO_VALUE;
  const m = Math.max(0, Math.round(min));
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest === 0 ? `${h} h` : `${h} h ${rest} min`;
}

/**
 * A travel time given in seconds, to the minute: "under 1 min", "14 min", "1 h 5 min".
 * Missing values become a dash.
 */
export function formatTravelTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NO_VALUE;
  if (seconds < 30) return 'under 1 min';
  return formatMinutes(seconds / 60);
}

/**
 * The legend label of a class of minutes [lo, hi): "under 5 min" (lo null), "5–10 min",
 * "45 min – 1 h", "30 min or more" (hi null).
 */
export function minuteClassLabel(lo: number | null, hi: number | null): string {
  if (lo === null && hi === null) return 'any time';
  if (lo === null) return `under ${formatMinutes(hi)}`;
  if (hi === null) return `${formatMinutes(lo)} or more`;
  if (lo < 60 && hi < 60) return `${Math.round(lo)}–${formatMinutes(hi)}`;
  return `${formatMinutes(lo)} – ${formatMinutes(hi)}`;
}

/** A distance in metres: "850 m" (to 10 m) below 1 km, else km with one decimal ("5.2 km"). */
export function formatDistance(m: number | null | undefined): string {
  if (m === null || m === undefined || !Number.isFinite(m)) return NO_VALUE;
  if (m < 995) return `${formatNumber(Math.round(m / 10) * 10)} m`;
  const km = m / 1000;
  const digits = km >= 100 ? 0 : 1;
  return `${km.toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits })} km`;
}

/** An accessibility score (capacity per 1,000 residents): three significant digits, whole numbers from 100. */
export function formatAccessScore(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return formatNumber(v, 0);
  return v.toLocaleString(LOCALE, { maximumSignificantDigits: 3 });
}

/**
 * A premises kind inside a sentence: "social_work_office" -> "social work office",
 * "gp_practice" -> "GP practice" (acronyms keep their capitals).
 */
export function kindPhrase(kind: string | null | undefined): string {
  const h = humanize(kind);
  if (h === NO_VALUE) return h;
  // Lower-case the first letter unless the first word is an acronym ("GP", "NHS").
  return /^[A-Z][a-z]/.test(h) || /^[A-Z](\s|$)/.test(h) ? h.charAt(0).toLowerCase() + h.slice(1) : h;
}
