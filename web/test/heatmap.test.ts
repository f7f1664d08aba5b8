import { describe, expect, it } from 'vitest';
import type { Count } from '../src/api';
import {
  HEATMAP_EMPTY,
  HEATMAP_SHADES,
  demandLevel,
  demandPhrase,
  heatmapCaption,
  heatmapModel,
  heatmapSummary,
  percentText,
} from '../src/heatmap';

/** A week of demand: 10 referrals an hour, 100 on Tuesday 11:00, "<10" at night. */
function week(): Count[] {
  return Array.from({ length: 168 }, (_, i) => (i % 24 < 6 ? '<10' : i === 24 + 11 ? 100 : 10));
}

/** Open Monday to Friday 09:00-17:00 (shares), half of Friday 16:00. */
function hours(): number[] {
  return Array.from({ length: 168 }, (_, i) => {
    const day = Math.floor(i / 24);
    const h = i % 24;
    if (day > 4 || h < 9 || h >= 17) return 0;
    return day === 4 && h === 16 ? 0.5 : 1;
  });
}

describe('demandLevel', () => {
  it('is 0 for no demand, withheld or unknown, else 1..5 by share of the maximum', () => {
    expect(demandLevel(null, 100)).toBe(0);
    expect(demandLevel(0, 100)).toBe(0);
    expect(demandLevel(5, 0)).toBe(0);
    expect(demandLevel(1, 100)).toBe(1);
    expect(demandLevel(20, 100)).toBe(1);
    expect(demandLevel(21, 100)).toBe(2);
    expect(demandLevel(100, 100)).toBe(5);
    expect(demandLevel(150, 100)).toBe(5);
  });
});

describe('heatmapModel', () => {
  const m = heatmapModel({ demand: week(), open: hours(), openMode: 'share' });

  it('has 168 cells, Monday 00:00 first, in rows of 24', () => {
    expect(m.cells).toHaveLength(168);
    expect(m.cells[0]).toMatchObject({ slot: 0, day: 0, hour: 0 });
    expect(m.cells[41]).toMatchObject({ slot: 41, day: 1, hour: 17 });
    expect(m.cells[167]).toMatchObject({ day: 6, hour: 23 });
  });
  it('marks withheld cells, which have no value and no shade', () => {
    const c = m.cells[3];
    expect(c.suppressed).toBe(true);
    expect(c.demand).toBeNull();
    expect(c.level).toBe(0);
    expect(c.className).toContain('hm-suppressed');
    expect(c.label).toBe('Mon 03:00–04:00: fewer than 10 referrals; closed');
    expect(m.suppressedHours).toBe(7 * 6);
  });
  it('shades by demand against the week maximum', () => {
    expect(m.max).toBe(100);
    const busiest = m.cells[35];
    expect(busiest.level).toBe(5);
    expect(busiest.fill).toBe(HEATMAP_SHADES[4]);
    expect(m.cells[12].level).toBe(1);
    expect(m.cells[12].fill).toBe(HEATMAP_SHADES[0]);
    expect(m.busiest).toBe(35);
  });
  it('outlines open hours, dashed when open for part of the hour', () => {
    expect(m.openHours).toBe(5 * 8);
    expect(m.cells[9].open).toBe(true);
    expect(m.cells[9].className.split(' ')).toEqual(['hm-cell', 'hm-l1', 'hm-open']);
    expect(m.cells[8].open).toBe(false);
    const fri16 = m.cells[4 * 24 + 16];
    expect(fri16.partial).toBe(true);
    expect(fri16.className).toContain('hm-partial');
    expect(fri16.label).toBe('Fri 16:00–17:00: 10 referrals; open 30 min of the hour');
    expect(m.cells[35].label).toBe('Tue 11:00–12:00: 100 referrals; open');
  });
  it('computes the share of published demand in closed hours', () => {
    // Published: 7 days × 18 hours × 10, plus 90 extra on Tuesday 11:00 (open).
    const total = 7 * 18 * 10 + 90;
    const open = 5 * 8 * 10 + 90;
    expect(m.closedShare).toBeCloseTo((total - open) / total, 10);
  });
  it('counts premises open within reach for an area', () => {
    const counts = Array.from({ length: 168 }, (_, i) => (i === 10 ? 2 : 0));
    const a = heatmapModel({ demand: week(), open: counts, openMode: 'count' });
    expect(a.openHours).toBe(1);
    expect(a.cells[10].label).toBe('Mon 10:00–11:00: 10 referrals; 2 open within reach');
    expect(a.cells[11].label).toBe('Mon 11:00–12:00: 10 referrals; nothing open within reach');
    expect(a.cells[10].partial).toBe(false);
  });
  it('copes with missing arrays (an older server): 168 empty cells', () => {
    const e = heatmapModel({ demand: undefined, open: null, openMode: 'share' });
    expect(e.cells).toHaveLength(168);
    expect(e.cells.every((c) => c.level === 0 && c.fill === HEATMAP_EMPTY && !c.open)).toBe(true);
    expect(e.closedShare).toBeNull();
    expect(e.busiest).toBeNull();
    expect(e.cells[0].label).toBe('Mon 00:00–01:00: demand not known; hours not known');
  });
});

describe('labels, caption and summary', () => {
  it('words demand counts', () => {
    expect(demandPhrase('<10')).toBe('fewer than 10 referrals');
    expect(demandPhrase(1)).toBe('1 referral');
    expect(demandPhrase(1234)).toBe('1,234 referrals');
    expect(demandPhrase(0)).toBe('no referrals');
    expect(demandPhrase(null)).toBe('demand not known');
  });
  it('formats shares as whole percents', () => {
    expect(percentText(0.41)).toBe('41%');
    expect(percentText(0.004)).toBe('0.4%');
    expect(percentText(0)).toBe('0%');
  });
  it('explains the marks in the caption', () => {
    expect(heatmapCaption('share')).toContain('outlined = open');
    expect(heatmapCaption('share')).toContain('hatched = fewer than 10');
    expect(heatmapCaption('count')).toContain('open within reach');
  });
  it('summarises a premises with the server share, else the computed one', () => {
    const m = heatmapModel({ demand: week(), open: hours(), openMode: 'share' });
    const s = heatmapSummary(m, { subject: 'premises', pct: 41 });
    expect(s.startsWith("41% of this catchment's referrals arrive while it is closed.")).toBe(true);
    expect(s).toContain('Open 40 of 168 hours');
    expect(s).toContain('Busiest hour for the catchment: Tue 11:00–12:00 (100 referrals)');
    expect(s).toContain('42 hours have fewer than 10 referrals');
    const computed = heatmapSummary(m, { subject: 'premises' });
    expect(computed).toContain(`${percentText(m.closedShare!)} of this catchment's referrals arrive while it is closed (from the hourly counts shown)`);
    expect(heatmapSummary(m, { subject: 'premises', pct: null })).toContain('is withheld (fewer than 10)');
  });
  it('summarises an area with the kind and reach', () => {
    const counts = Array.from({ length: 168 }, (_, i) => (i >= 9 && i < 17 ? 1 : 0));
    const m = heatmapModel({ demand: week(), open: counts, openMode: 'count' });
    const s = heatmapSummary(m, { subject: 'area', kind: 'social_work_office', thresholdMin: 15, pct: 62.5 });
    expect(s).toContain("63% of this area's referrals arrive when no social work office within 15 min is open.");
    expect(s).toContain('A social work office is open within 15 min in 8 of 168 hours.');
  });
});

describe('articles', () => {
  it('says "an" before a vowel', () => {
    const m = heatmapModel({ demand: [], open: [], openMode: 'count' });
    expect(heatmapSummary(m, { subject: 'area', kind: 'office', thresholdMin: 10, pct: 5 })).toContain('An office is open within 10 min in 0 of 168 hours.');
  });
});
