import { describe, expect, it } from 'vitest';
import { ApiError, type PremisesCollection, type SignpostResult } from '../src/api';
import {
  daysBetween,
  formatAt,
  formatWhen,
  parseLocal,
  placeStatus,
  rankedByTravelTime,
  serviceChoices,
  servicesText,
  signpostErrorMessage,
  signpostHeading,
  signpostPrecheck,
  travelText,
  ukLocal,
  ukNowInput,
  weekday,
} from '../src/signpost';

describe('UK local time', () => {
  it('reads the wall clock in Europe/London, summer and winter', () => {
    // 2024-07-01 12:30 UTC is 13:30 BST; 2024-01-15 12:30 UTC is 12:30 GMT.
    expect(ukNowInput(new Date(Date.UTC(2024, 6, 1, 12, 30)))).toBe('2024-07-01T13:30');
    expect(ukNowInput(new Date(Date.UTC(2024, 0, 15, 12, 30)))).toBe('2024-01-15T12:30');
    // 23:30 UTC on 31 March 2024 is 00:30 BST on 1 April.
    expect(ukLocal(new Date(Date.UTC(2024, 2, 31, 23, 30)))).toEqual({ year: 2024, month: 4, day: 1, hour: 0, minute: 30 });
  });
  it('parses local date-times from the server, with seconds and fractions', () => {
    expect(parseLocal('2024-03-05T17:30')).toEqual({ year: 2024, month: 3, day: 5, hour: 17, minute: 30 });
    expect(parseLocal('2026-11-23T15:56:17.514410477')).toMatchObject({ hour: 15, minute: 56 });
    expect(parseLocal('garbage')).toBeNull();
    expect(parseLocal(null)).toBeNull();
  });
  it('knows weekdays and calendar days apart', () => {
    expect(weekday(parseLocal('2024-03-11T09:00')!)).toBe(0); // a Monday
    expect(weekday(parseLocal('2024-03-10T09:00')!)).toBe(6);
    expect(daysBetween(parseLocal('2024-03-09T22:30')!, parseLocal('2024-03-11T09:00')!)).toBe(2);
  });
  it('formats times relative to the time asked about', () => {
    expect(formatWhen('2024-03-05T18:30:00', '2024-03-05T17:30')).toBe('18:30');
    expect(formatWhen('2024-03-11T09:00:00', '2024-03-09T22:30')).toBe('Mon 09:00');
    expect(formatWhen('2024-03-25T09:00:00', '2024-03-09T22:30')).toBe('Mon 25 Mar 09:00');
    expect(formatWhen(null, '2024-03-09T22:30')).toBe('—');
    expect(formatAt('2024-03-05T17:30:00')).toBe('Tue 5 Mar 2024, 17:30');
  });
});

const place = (o: Partial<SignpostResult>): SignpostResult => ({
  rank: 1,
  premises_id: 'HEA-0019',
  name: 'Carronside Health Centre 19',
  kind: 'health_centre',
  services: ['gp', 'health_visiting'],
  provider: 'Council',
  eligibility: 'Patients registered with the practice',
  opening_hours: 'Mo-Fr 08:00-18:30; PH off',
  lon: -3.617,
  lat: 55.7016,
  travel_time_min: 1.5,
  distance_m: 241,
  now: 'open',
  closes_at: '2024-03-05T18:30:00',
  opens_at: null,
  open_on_arrival: 'open',
  earliest_visit: '2024-03-05T17:31:33',
  ...o,
});

describe('placeStatus', () => {
  it('says open now and when it closes', () => {
    expect(placeStatus(place({}), '2024-03-05T17:30:00', true)).toEqual({ state: 'open', text: 'Open now · closes 18:30', arrival: null });
    expect(placeStatus(place({}), '2024-03-05T17:30:00', false).text).toBe('Open then · closes 18:30');
  });
  it('says closed and when it opens, in UK local time', () => {
    const s = placeStatus(place({ now: 'closed', closes_at: null, opens_at: '2024-03-11T09:00:00', open_on_arrival: 'closed' }), '2024-03-09T22:30:00', true);
    expect(s).toEqual({ state: 'closed', text: 'Closed now · opens Mon 09:00', arrival: null });
  });
  it('notes when arriving changes the answer', () => {
    expect(placeStatus(place({ open_on_arrival: 'closed' }), '2024-03-05T18:25:00', true).arrival).toBe('Closes before you could get there');
    expect(placeStatus(place({ now: 'closed', opens_at: '2024-03-05T08:00:00', open_on_arrival: 'open' }), '2024-03-05T07:55:00', true).arrival).toBe(
      'Open by the time you get there',
    );
  });
  it('admits when hours are not known', () => {
    expect(placeStatus(place({ now: 'unknown', closes_at: null }), '2024-03-05T17:30', true)).toEqual({ state: 'unknown', text: 'Opening hours not known', arrival: null });
  });
});

describe('list texts', () => {
  it('gives travel time and distance', () => {
    expect(travelText(place({}))).toBe('2 min · 240 m');
    expect(travelText(place({ travel_time_min: 0.3, distance_m: 1520 }))).toBe('under 1 min · 1.5 km');
  });
  it('lists services readably', () => {
    expect(servicesText(['gp', 'health_visiting'])).toBe('GP, health visiting');
    expect(servicesText('sport;youth_work')).toBe('Sport, youth work');
    expect(servicesText([])).toBe('—');
  });
  it('heads the list with the count, the service and the time', () => {
    const r = { results: [place({}), place({ rank: 2 })], area_id: 'DZ000294', at: '2024-03-05T17:30:00', service: 'gp' };
    expect(signpostHeading(r)).toBe('2 places offering GP near DZ000294, Tue 5 Mar 2024, 17:30');
    expect(signpostHeading({ ...r, results: [], service: null })).toBe('No places within reach near DZ000294.');
  });
  it('checks the ranking by travel time', () => {
    expect(rankedByTravelTime([place({ rank: 1, travel_time_min: 1 }), place({ rank: 2, travel_time_min: 1 }), place({ rank: 3, travel_time_min: 4 })])).toBe(true);
    expect(rankedByTravelTime([place({ rank: 1, travel_time_min: 3 }), place({ rank: 2, travel_time_min: 1 })])).toBe(false);
    expect(rankedByTravelTime([place({ rank: 2 })])).toBe(false);
  });
});

describe('service choices', () => {
  const fc: PremisesCollection = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] }, properties: { premises_id: 'A', name: 'A', kind: 'health_centre', services: 'gp;health_visiting', capacity: null, provider: null, opening_hours: null } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] }, properties: { premises_id: 'B', name: 'B', kind: 'nursery', services: 'early_learning; nursery', capacity: null, provider: null, opening_hours: null } },
    ],
  };
  it('offers kinds and services, distinct and sorted, a service named like a kind once', () => {
    expect(serviceChoices(fc)).toEqual({ kinds: ['health_centre', 'nursery'], services: ['early_learning', 'gp', 'health_visiting'] });
    expect(serviceChoices(null)).toEqual({ kinds: [], services: [] });
  });
});

describe('friendly errors', () => {
  const ctx = { bbox: [-3.754, 55.641, -3.482, 55.761] as [number, number, number, number], region: 'Demo region', choices: { kinds: ['nursery'], services: ['gp'] } };
  it('refuses points outside the region and unknown services before asking', () => {
    expect(signpostPrecheck(-3.62, 55.7, null, ctx)).toBeNull();
    expect(signpostPrecheck(-3.62, 55.7, 'gp', ctx)).toBeNull();
    expect(signpostPrecheck(-3.62, 55.7, 'nursery', ctx)).toBeNull();
    expect(signpostPrecheck(-3.0, 55.7, null, ctx)).toBe('That point is outside the area this map covers (Demo region). Click somewhere inside it.');
    expect(signpostPrecheck(-3.62, 55.7, 'zzz', ctx)).toContain('No place on this map offers “zzz”');
    expect(signpostPrecheck(NaN, 55.7, null, ctx)).toBe('That is not a point on the map.');
    // Nothing known: let the server decide.
    expect(signpostPrecheck(10, 10, 'zzz', {})).toBeNull();
  });
  it('words the server errors', () => {
    const outside = new ApiError(400, 'bad_request', 'the point 0.00000, 50.00000 is outside the region (-3.754, 55.641 to -3.482, 55.761)', '/api/signpost');
    expect(signpostErrorMessage(outside, 'Demo region')).toBe('That point is outside the area this map covers (Demo region). Click somewhere inside it.');
    const service = new ApiError(404, 'not_found', 'no premises offer "zzz"; services and kinds are: gp, nursery', '/api/signpost');
    expect(signpostErrorMessage(service)).toBe('No place offers that service here: no premises offer "zzz"; services and kinds are: gp, nursery.');
    expect(signpostErrorMessage(new ApiError(0, 'network', 'x', '/api/signpost'))).toContain('could not be reached');
    expect(signpostErrorMessage(new Error('boom'))).toBe('Sorry, the places could not be found (boom).');
  });
});
