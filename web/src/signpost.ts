// Signposting, "who can help here, and when" (GET /api/signpost): UK local time for the
// request, the open / closed wording of each place, travel and the choice of services.
// Pure (no DOM, no map): unit-tested in test/signpost.test.ts.

import { ApiError, type Bbox, type PremisesCollection, type SignpostResponse, type SignpostResult } from './api';
import { NO_VALUE, formatDistance, formatTravelTime, humanize, kindPhrase, splitList } from './format';

/** The time zone of every time the server sends and expects (local times without offset). */
export const UK_TIME_ZONE = 'Europe/London';
/** Places asked for. */
export const SIGNPOST_LIMIT = 10;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A local date-time: calendar fields only (no zone). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The wall-clock time in the UK at an instant. */
export function ukLocal(date: Date = new Date()): LocalDateTime {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: UK_TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? NaN);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute') };
}

/** "2024-03-05T17:30": the value of a datetime-local input and of the API's `at`. */
export function toLocalInput(t: LocalDateTime): string {
  return `${t.year}-${pad2(t.month)}-${pad2(t.day)}T${pad2(t.hour)}:${pad2(t.minute)}`;
}

/** Now, in UK local time, for a datetime-local input. */
export function ukNowInput(date: Date = new Date()): string {
  return toLocalInput(ukLocal(date));
}

/** Read "2024-03-05T17:30[:00[.fraction]]" (no offset) as calendar fields; null if it is not one. */
export function parseLocal(s: string | null | undefined): LocalDateTime | null {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(s.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return { year, month, day, hour, minute };
}

/** Days from the date of `a` to the date of `b` (calendar days). */
export function daysBetween(a: LocalDateTime, b: LocalDateTime): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

/** 0 = Monday ... 6 = Sunday. */
export function weekday(t: LocalDateTime): number {
  return (new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay() + 6) % 7;
}

/**
 * A local time relative to the time asked about: "18:30" the same day, "Mon 09:00" within
 * the coming week, "Mon 11 Mar 09:00" further away (or before).
 */
export function formatWhen(iso: string | null | undefined, ref: string | null | undefined): string {
  const t = parseLocal(iso);
  if (!t) return NO_VALUE;
  const clock = `${pad2(t.hour)}:${pad2(t.minute)}`;
  const r = parseLocal(ref);
  const d = r ? daysBetween(r, t) : NaN;
  if (d === 0) return clock;
  if (d > 0 && d < 7) return `${DAYS[weekday(t)]} ${clock}`;
  return `${DAYS[weekday(t)]} ${t.day} ${MONTHS[t.month - 1]} ${clock}`;
}

/** "Tue 5 Mar 2024, 17:30". */
export function formatAt(iso: string | null | undefined): string {
  const t = parseLocal(iso);
  if (!t) return NO_VALUE;
  return `${DAYS[weekday(t)]} ${t.day} ${MONTHS[t.month - 1]} ${t.year}, ${pad2(t.hour)}:${pad2(t.minute)}`;
}

export interface PlaceStatus {
  state: 'open' | 'closed' | 'unknown';
  /** "Open now · closes 18:30", "Closed · opens Mon 09:00", "Opening hours not known". */
  text: string;
  /** A note when arriving changes things: "Closes before you could get there". */
  arrival: string | null;
}

/**
 * Whether a place is open at the time asked about (`at`, the response's time) and when that
 * changes. `isNow`: the time asked about is the present ("Open now"), else "Open then".
 */
export function placeStatus(r: Pick<SignpostResult, 'now' | 'closes_at' | 'opens_at' | 'open_on_arrival'>, at: string | null | undefined, isNow: boolean): PlaceStatus {
  if (r.now === 'open') {
    const closes = r.closes_at ? ` · closes ${formatWhen(r.closes_at, at)}` : '';
    const arrival = r.open_on_arrival === 'closed' ? 'Closes before you could get there' : null;
    return { state: 'open', text: `${isNow ? 'Open now' : 'Open then'}${closes}`, arrival };
  }
  if (r.now === 'closed') {
    const opens = r.opens_at ? ` · opens ${formatWhen(r.opens_at, at)}` : ' · no opening hours ahead';
    const arrival = r.open_on_arrival === 'open' ? 'Open by the time you get there' : null;
    return { state: 'closed', text: `${isNow ? 'Closed now' : 'Closed then'}${opens}`, arrival };
  }
  return { state: 'unknown', text: 'Opening hours not known', arrival: null };
}

/** "2 min · 350 m". */
export function travelText(r: Pick<SignpostResult, 'travel_time_min' | 'distance_m'>): string {
  const t = typeof r.travel_time_min === 'number' && Number.isFinite(r.travel_time_min) ? formatTravelTime(r.travel_time_min * 60) : NO_VALUE;
  return `${t} · ${formatDistance(r.distance_m)}`;
}

/** The services of a place as a readable list: "GP, health visiting". */
export function servicesText(services: readonly string[] | string | null | undefined): string {
  const list = Array.isArray(services) ? services : splitList(typeof services === 'string' ? services : null);
  if (!list.length) return NO_VALUE;
  return list.map((s, i) => (i === 0 ? humanize(s) : humanize(s).replace(/^([A-Z])(?=[a-z])/, (c) => c.toLowerCase()))).join(', ');
}

/** The kinds and services offered by the premises, for the service select (sorted, distinct). */
export function serviceChoices(fc: PremisesCollection | null | undefined): { kinds: string[]; services: string[] } {
  const kinds = new Set<string>();
  const services = new Set<string>();
  for (const f of fc?.features ?? []) {
    const p = f?.properties;
    if (!p) continue;
    if (typeof p.kind === 'string' && p.kind) kinds.add(p.kind);
    const list: unknown = p.services;
    for (const s of Array.isArray(list) ? (list as unknown[]) : splitList(typeof list === 'string' ? list : null)) {
      if (typeof s === 'string' && s.trim()) services.add(s.trim());
    }
  }
  // A service named like a kind would be offered twice: keep it as a kind.
  for (const k of kinds) services.delete(k);
  return { kinds: [...kinds].sort(), services: [...services].sort() };
}

/** The heading of a list of places: "12 places near DZ000294, Tue 5 Mar 2024, 17:30". */
export function signpostHeading(r: Pick<SignpostResponse, 'results' | 'area_id' | 'at' | 'service'>): string {
  const n = r.results.length;
  const what = r.service ? ` offering ${kindPhrase(r.service)}` : '';
  const where = r.area_id ? ` near ${r.area_id}` : '';
  if (n === 0) return `No places${what} within reach${where}.`;
  return `${n} place${n === 1 ? '' : 's'}${what}${where}, ${formatAt(r.at)}`;
}

/** True when the results are ranked 1, 2, 3... by travel time (shortest first). */
export function rankedByTravelTime(results: readonly Pick<SignpostResult, 'rank' | 'travel_time_min'>[]): boolean {
  return results.every((r, i) => r.rank === i + 1 && (i === 0 || r.travel_time_min >= results[i - 1].travel_time_min));
}

/**
 * A friendly message for a failed look-up: a point outside the region, a service no
 * premises offers, an unreadable time, or the server not answering.
 */
export function signpostErrorMessage(e: unknown, region?: string | null): string {
  if (e instanceof ApiError) {
    const msg = e.message.replace(/[.\s]+$/, '');
    if (e.status === 400 && /outside the region/i.test(msg)) {
      return outsideMessage(region);
    }
    if (e.status === 404 && /no premises offer/i.test(msg)) return `No place offers that service here: ${msg}.`;
    if (e.status === 400) return `The question could not be answered: ${msg}.`;
    if (e.status === 0) return 'The server could not be reached. Check the connection and try again.';
    return `Sorry, the places could not be found (${msg}).`;
  }
  return `Sorry, the places could not be found (${e instanceof Error ? e.message : String(e)}).`;
}

function outsideMessage(region?: string | null): string {
  return `That point is outside ${region ? `the area this map covers (${region})` : 'the area this map covers'}. Click somewhere inside it.`;
}

/**
 * What the server would refuse, checked before asking it (so that the browser logs no
 * failed request): a point outside the region's box, or a service that no premises offers.
 * Returns the friendly message, or null when the question can be asked.
 */
export function signpostPrecheck(
  lon: number,
  lat: number,
  service: string | null | undefined,
  ctx: { bbox?: Bbox | null; region?: string | null; choices?: { kinds: readonly string[]; services: readonly string[] } | null },
): string | null {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return 'That is not a point on the map.';
  const b = ctx.bbox;
  if (Array.isArray(b) && b.length === 4 && b.every((x) => Number.isFinite(x)) && (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3])) {
    return outsideMessage(ctx.region);
  }
  const c = ctx.choices;
  if (service && c && (c.kinds.length || c.services.length) && !c.kinds.includes(service) && !c.services.includes(service)) {
    return `No place on this map offers “${service}”. Choose a service from the list.`;
  }
  return null;
}
