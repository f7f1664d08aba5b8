import { describe, expect, it } from 'vitest';
import { accessUrl, areaHoursUrl, hoursAccessUrl, hoursExtensionsUrl, hoursGapUrl, isochronesUrl, parseAreaAttributes, premisesHoursUrl, query, signpostUrl, tileUrl } from '../src/api';

describe('parseAreaAttributes', () => {
  const a = { area_id: 'S01000001', name: 'One', need_score: 12.5, referrals: '<10', rate_per_1000: null };
  const b = { area_id: 'S01000002', name: null, need_score: null, referrals: 40, rate_per_1000: 20.1 };

  it('reads {"areas": [...]} in feature-id order', () => {
    const out = parseAreaAttributes({ areas: [a, b] });
    expect(out).toHaveLength(2);
    expect(out?.[0].area_id).toBe('S01000001');
    expect(out?.[1].referrals).toBe(40);
  });
  it('accepts a GeoJSON FeatureCollection from a server that ignores ?geometry=false', () => {
    const fc = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', id: 0, properties: a, geometry: null },
        { type: 'Feature', id: 1, properties: null, geometry: null },
      ],
    };
    const out = parseAreaAttributes(fc);
    expect(out).toHaveLength(2);
    expect(out?.[0].area_id).toBe('S01000001');
    // A feature without properties keeps its place (index = feature id).
    expect(out?.[1]).toEqual({});
  });
  it('rejects anything else', () => {
    expect(parseAreaAttributes(null)).toBeNull();
    expect(parseAreaAttributes([a])).toBeNull();
    expect(parseAreaAttributes({ areas: 'x' })).toBeNull();
    expect(parseAreaAttributes({ error: 'not_found', message: 'x' })).toBeNull();
  });
  it('keeps an empty region empty', () => {
    expect(parseAreaAttributes({ areas: [] })).toEqual([]);
  });
});

describe('tileUrl', () => {
  it('builds an absolute template on the page origin', () => {
    expect(tileUrl('areas', 'http://127.0.0.1:8089')).toBe('http://127.0.0.1:8089/tiles/areas/{z}/{x}/{y}.mvt');
    expect(tileUrl('localities', 'https://maps.example.org/')).toBe('https://maps.example.org/tiles/localities/{z}/{x}/{y}.mvt');
  });
  it('escapes the layer name but not the placeholders', () => {
    expect(tileUrl('care homes/2024', 'http://h')).toBe('http://h/tiles/care%20homes%2F2024/{z}/{x}/{y}.mvt');
  });
});

describe('accessUrl', () => {
  it('asks for a kind and a threshold in minutes', () => {
    expect(accessUrl('social_work_office', 15)).toBe('/api/access?kind=social_work_office&threshold_min=15');
    expect(accessUrl('care homes & co', 30)).toBe('/api/access?kind=care%20homes%20%26%20co&threshold_min=30');
  });
});

describe('isochronesUrl', () => {
  it('asks for the bands of one premises in minutes, commas kept', () => {
    expect(isochronesUrl('SOC-0001', [5, 10, 15])).toBe('/api/premises/SOC-0001/isochrones?bands_min=5,10,15');
    expect(isochronesUrl(42, [7.5])).toBe('/api/premises/42/isochrones?bands_min=7.5');
  });
  it('escapes the premises id as one path segment', () => {
    expect(isochronesUrl('a/b c?d', [5])).toBe('/api/premises/a%2Fb%20c%3Fd/isochrones?bands_min=5');
  });
});

describe('hours and signpost URLs', () => {
  it('leaves out the optional parameters not given', () => {
    expect(hoursGapUrl('social_work_office')).toBe('/api/hours/gap?kind=social_work_office');
    expect(hoursGapUrl('social_work_office', { thresholdMin: 15, group: 'adults' })).toBe('/api/hours/gap?kind=social_work_office&threshold_min=15&group=adults');
    expect(hoursAccessUrl('health_centre', 41)).toBe('/api/hours/access?kind=health_centre&hour=41');
    expect(hoursAccessUrl('health_centre', 0, { thresholdMin: 20, decay: 'e2sfca' })).toBe('/api/hours/access?kind=health_centre&hour=0&threshold_min=20&decay=e2sfca');
    expect(hoursExtensionsUrl('social_work_office', { limit: 10, group: null })).toBe('/api/hours/extensions?kind=social_work_office&limit=10');
    expect(areaHoursUrl('DZ 1/2', 'school', { thresholdMin: 15 })).toBe('/api/areas/DZ%201%2F2/hours?kind=school&threshold_min=15');
    expect(premisesHoursUrl('SOC-0001', '2023-01-09')).toBe('/api/premises/SOC-0001/hours?week=2023-01-09');
    expect(premisesHoursUrl('SOC-0001', null)).toBe('/api/premises/SOC-0001/hours');
  });
  it('asks the signpost at a rounded point, with a service and a local time', () => {
    expect(signpostUrl({ lon: -3.62, lat: 55.7 })).toBe('/api/signpost?lon=-3.62&lat=55.7');
    expect(signpostUrl({ lon: -3.6212345678, lat: 55.70000049, service: 'gp', at: '2024-03-05T17:30', limit: 10 })).toBe(
      '/api/signpost?lon=-3.621235&lat=55.7&service=gp&at=2024-03-05T17%3A30&limit=10',
    );
    expect(query({ a: '', b: null, c: undefined, d: 0 })).toBe('?d=0');
  });
});
