import { describe, expect, it } from 'vitest';
import {
  NO_VALUE,
  decileLabel,
  describeTileError,
  formatAccessScore,
  formatBreak,
  formatCount,
  formatDistance,
  formatIndicator,
  formatMinutes,
  formatNumber,
  formatOpeningHours,
  formatRate,
  formatScore,
  formatTravelTime,
  humanize,
  isSuppressed,
  isValidBbox,
  kindPhrase,
  minuteClassLabel,
  quintileLabel,
  splitList,
} from '../src/format';

describe('formatCount (disclosure-controlled counts)', () => {
  it('shows suppressed counts exactly as the server sent them', () => {
    expect(formatCount('<10')).toBe('<10');
    expect(formatCount(' <10 ')).toBe('<10');
    expect(isSuppressed('<10')).toBe(true);
    expect(isSuppressed(15)).toBe(false);
  });
  it('groups thousands in numeric counts', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(15)).toBe('15');
    expect(formatCount(12345)).toBe('12,345');
  });
  it('shows a dash for missing counts', () => {
    expect(formatCount(null)).toBe(NO_VALUE);
    expect(formatCount(undefined)).toBe(NO_VALUE);
    expect(formatCount('')).toBe(NO_VALUE);
  });
});

describe('numbers and rates', () => {
  it('formats rates with one decimal and null as a dash', () => {
    expect(formatRate(12.345)).toBe('12.3');
    expect(formatRate(4)).toBe('4.0');
    expect(formatRate(1234.56)).toBe('1,234.6');
    expect(formatRate(null)).toBe(NO_VALUE);
    expect(formatRate(Number.NaN)).toBe(NO_VALUE);
  });
  it('formats need scores and plain numbers', () => {
    expect(formatScore(87.25)).toBe('87.3');
    expect(formatScore(null)).toBe(NO_VALUE);
    expect(formatNumber(5432.1)).toBe('5,432');
    expect(formatNumber(null)).toBe(NO_VALUE);
  });
  it('formats indicators by their scale', () => {
    expect(formatIndicator(812)).toBe('812');
    expect(formatIndicator(0.12345)).toBe('0.123');
    expect(formatIndicator(23.456)).toBe('23.46');
    expect(formatIndicator(null)).toBe(NO_VALUE);
  });
  it('formats legend breaks compactly', () => {
    expect(formatBreak(123.4)).toBe('123');
    expect(formatBreak(12.34)).toBe('12.3');
    expect(formatBreak(1.234)).toBe('1.23');
  });
});

describe('formatOpeningHours', () => {
  it('puts each rule on its own line', () => {
    expect(formatOpeningHours('Mo-Fr 09:00-17:00; Sa 10:00-12:00; PH off')).toEqual([
      'Mo-Fr 09:00-17:00',
      'Sa 10:00-12:00',
      'PH off',
    ]);
  });
  it('keeps a single rule and tidies whitespace', () => {
    expect(formatOpeningHours('  Mo-Su   08:00-20:00 ')).toEqual(['Mo-Su 08:00-20:00']);
    expect(formatOpeningHours('24/7')).toEqual(['24/7']);
  });
  it('drops empty rules', () => {
    expect(formatOpeningHours('Mo 09:00-12:00;; ;Tu 09:00-12:00;')).toEqual(['Mo 09:00-12:00', 'Tu 09:00-12:00']);
  });
  it('does not split inside quoted comments', () => {
    expect(formatOpeningHours('Mo-Fr 09:00-17:00 "by appointment; call first"; Sa off')).toEqual([
      'Mo-Fr 09:00-17:00 "by appointment; call first"',
      'Sa off',
    ]);
  });
  it('returns no lines for missing hours', () => {
    expect(formatOpeningHours(null)).toEqual([]);
    expect(formatOpeningHours('')).toEqual([]);
  });
});

describe('labels', () => {
  it('humanizes kinds and column names', () => {
    expect(humanize('health_centre')).toBe('Health centre');
    expect(humanize('social_work_office')).toBe('Social work office');
    expect(humanize('school')).toBe('School');
    expect(humanize('')).toBe(NO_VALUE);
    expect(humanize('iz2011')).toBe('IZ2011');
    expect(humanize('simd_rank')).toBe('SIMD rank');
    expect(humanize('health_board')).toBe('Health board');
  });
  it('splits semicolon-separated services', () => {
    expect(splitList('family support; early years ;;health visiting')).toEqual([
      'family support',
      'early years',
      'health visiting',
    ]);
    expect(splitList(null)).toEqual([]);
  });
  it('labels SIMD quintiles and deciles with their direction', () => {
    expect(quintileLabel(1)).toBe('1 (most deprived)');
    expect(quintileLabel(3)).toBe('3');
    expect(quintileLabel(5)).toBe('5 (least deprived)');
    expect(decileLabel(1)).toBe('1 (most deprived)');
    expect(decileLabel(10)).toBe('10 (least deprived)');
  });
  it('validates bounding boxes', () => {
    expect(isValidBbox([-7.6, 54.6, -0.7, 60.9])).toBe(true);
    expect(isValidBbox([1, 2, 3])).toBe(false);
    expect(isValidBbox([5, 0, 1, 1])).toBe(false);
    expect(isValidBbox([0, 0, 1, Number.NaN])).toBe(false);
    expect(isValidBbox(null)).toBe(false);
  });
});

describe('describeTileError', () => {
  it('gives the HTTP status of a failed tile without its URL', () => {
    const e = Object.assign(new Error('AJAXError: Internal Server Error (500): http://h/tiles/areas/9/1/2.mvt'), {
      status: 500,
      statusText: 'Internal Server Error',
      url: 'http://h/tiles/areas/9/1/2.mvt',
    });
    expect(describeTileError(e)).toBe('HTTP 500 Internal Server Error');
    expect(describeTileError({ status: 502, statusText: '' })).toBe('HTTP 502');
  });
  it('falls back to the message', () => {
    expect(describeTileError(new Error('Unimplemented type: 4'))).toBe('Unimplemented type: 4');
    expect(describeTileError(undefined)).toBe('unknown error');
    expect(describeTileError('x')).toBe('x');
  });
});

describe('access formatting', () => {
  it('formats minutes, with hours from 60', () => {
    expect(formatMinutes(0)).toBe('0 min');
    expect(formatMinutes(14.4)).toBe('14 min');
    expect(formatMinutes(59.6)).toBe('1 h');
    expect(formatMinutes(65)).toBe('1 h 5 min');
    expect(formatMinutes(120)).toBe('2 h');
    expect(formatMinutes(null)).toBe(NO_VALUE);
    expect(formatMinutes(Number.NaN)).toBe(NO_VALUE);
  });
  it('formats travel times given in seconds', () => {
    expect(formatTravelTime(25)).toBe('under 1 min');
    expect(formatTravelTime(30)).toBe('1 min');
    expect(formatTravelTime(813)).toBe('14 min');
    expect(formatTravelTime(3900)).toBe('1 h 5 min');
    expect(formatTravelTime(null)).toBe(NO_VALUE);
  });
  it('labels minute classes', () => {
    expect(minuteClassLabel(null, 5)).toBe('under 5 min');
    expect(minuteClassLabel(5, 10)).toBe('5–10 min');
    expect(minuteClassLabel(45, 60)).toBe('45 min – 1 h');
    expect(minuteClassLabel(60, 90)).toBe('1 h – 1 h 30 min');
    expect(minuteClassLabel(30, null)).toBe('30 min or more');
    expect(minuteClassLabel(null, null)).toBe('any time');
  });
  it('formats distances in m below 1 km, else km', () => {
    expect(formatDistance(158)).toBe('160 m');
    expect(formatDistance(994)).toBe('990 m');
    expect(formatDistance(995)).toBe('1.0 km');
    expect(formatDistance(5210)).toBe('5.2 km');
    expect(formatDistance(123456)).toBe('123 km');
    expect(formatDistance(null)).toBe(NO_VALUE);
  });
  it('formats accessibility scores to three significant digits', () => {
    expect(formatAccessScore(0.32700770984901906)).toBe('0.327');
    expect(formatAccessScore(12.345)).toBe('12.3');
    expect(formatAccessScore(160.78)).toBe('161');
    expect(formatAccessScore(1234.5)).toBe('1,235');
    expect(formatAccessScore(0)).toBe('0');
    expect(formatAccessScore(null)).toBe(NO_VALUE);
  });
  it('writes premises kinds inside a sentence', () => {
    expect(kindPhrase('social_work_office')).toBe('social work office');
    expect(kindPhrase('school')).toBe('school');
    expect(kindPhrase('gp_practice')).toBe('GP practice');
    expect(kindPhrase('nhs_board')).toBe('NHS board');
    expect(kindPhrase('')).toBe(NO_VALUE);
  });
});
