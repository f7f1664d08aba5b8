import { describe, expect, it } from 'vitest';
import { compareUrl, scenarioUrl, type ScenarioMetrics } from '../src/api';
import {
  COVERAGE_CLASSES,
  TRAVEL_CLASSES,
  addedKinds,
  compareClass,
  compareKinds,
  compareLegend,
  compareRows,
  coverageClass,
  formatMetric,
  metricDef,
  metricDiff,
  quintileRows,
  scenarioChoices,
  scenarioErrorMessage,
  scenarioMeta,
  travelClass,
} from '../src/scenarios';

const metrics = (o: Partial<ScenarioMetrics> = {}): ScenarioMetrics => ({
  name: 'baseline',
  premises: 0,
  coverage_pct: -0,
  mean_travel_min: null,
  p95_travel_min: null,
  hours_gap_pct: 100,
  providers_mean: 0,
  choice_desert_pct: 100,
  by_quintile: [
    { simd_quintile: 2, coverage_pct: 0, mean_travel_min: null, p95_travel_min: null, hours_gap_pct: null, providers_mean: 0 },
    { simd_quintile: 1, coverage_pct: 0, mean_travel_min: null, p95_travel_min: null, hours_gap_pct: 100, providers_mean: 0 },
  ],
  ...o,
});

const hubs = metrics({
  name: 'hubs-mclp-5',
  premises: 5,
  coverage_pct: 30.1,
  mean_travel_min: 20.4,
  p95_travel_min: 40.9,
  hours_gap_pct: 100,
  providers_mean: 0.3,
  choice_desert_pct: 100,
  by_quintile: [
    { simd_quintile: 1, coverage_pct: 50.2, mean_travel_min: 16.3, p95_travel_min: 29.5, hours_gap_pct: 90, providers_mean: 0.5 },
    { simd_quintile: 2, coverage_pct: 22, mean_travel_min: 22.1, p95_travel_min: 41.2, hours_gap_pct: null, providers_mean: 0.22 },
  ],
});

describe('scenario URLs', () => {
  it('escapes names and builds the compare query', () => {
    expect(scenarioUrl('hubs-mclp-5')).toBe('/api/scenarios/hubs-mclp-5');
    expect(compareUrl('baseline', 'hubs-mclp-5', 'hub', 15)).toBe('/api/scenarios/compare?a=baseline&b=hubs-mclp-5&kind=hub&threshold_min=15');
  });
});

describe('metric differences', () => {
  it('knows which way is better for each metric', () => {
    expect(metricDiff(metricDef('coverage_pct'), 60, 64.25)).toMatchObject({ cls: 'better', text: '+4.3 pts' });
    expect(metricDiff(metricDef('coverage_pct'), 64, 60)).toMatchObject({ cls: 'worse', text: '−4.0 pts' });
    expect(metricDiff(metricDef('mean_travel_min'), 12, 9.5)).toMatchObject({ cls: 'better', text: '−2.5 min' });
    expect(metricDiff(metricDef('p95_travel_min'), 20, 25)).toMatchObject({ cls: 'worse', text: '+5.0 min' });
    expect(metricDiff(metricDef('hours_gap_pct'), 40, 30)).toMatchObject({ cls: 'better' });
    expect(metricDiff(metricDef('providers_mean'), 1.5, 1.75)).toMatchObject({ cls: 'better', text: '+0.25' });
    expect(metricDiff(metricDef('choice_desert_pct'), 10, 20)).toMatchObject({ cls: 'worse' });
    expect(metricDiff(metricDef('premises'), 0, 5)).toMatchObject({ cls: 'changed', text: '+5' });
  });
  it('treats tiny differences as no change and missing values as not comparable', () => {
    expect(metricDiff(metricDef('coverage_pct'), 60, 60.01)).toMatchObject({ cls: 'same', text: 'no change' });
    expect(metricDiff(metricDef('hours_gap_pct'), null, 30)).toMatchObject({ cls: 'unknown', text: '—' });
  });
  it('counts a travel time that appears as better and one that vanishes as worse', () => {
    expect(metricDiff(metricDef('mean_travel_min'), null, 20.4)).toMatchObject({ cls: 'better', text: 'now reachable' });
    expect(metricDiff(metricDef('mean_travel_min'), 20.4, null)).toMatchObject({ cls: 'worse', text: 'no longer reachable' });
  });
  it('formats values, negative zero and null in each metric\'s words', () => {
    expect(formatMetric(metricDef('coverage_pct'), -0)).toBe('0.0%');
    expect(formatMetric(metricDef('mean_travel_min'), 6.25)).toBe('6.3 min');
    expect(formatMetric(metricDef('mean_travel_min'), null)).toBe('none');
    expect(formatMetric(metricDef('mean_travel_min'), null, true)).toBe('—');
    expect(formatMetric(metricDef('coverage_pct'), 87.54, true)).toBe('87.5');
    expect(formatMetric(metricDef('hours_gap_pct'), null)).toBe('withheld');
    expect(formatMetric(metricDef('providers_mean'), 1.756)).toBe('1.76');
  });
});

describe('side by side', () => {
  it('gives one row per metric, A and B formatted, with the difference', () => {
    const rows = compareRows(metrics(), hubs);
    expect(rows.map((r) => r.key)).toEqual(['premises', 'coverage_pct', 'mean_travel_min', 'p95_travel_min', 'hours_gap_pct', 'providers_mean', 'choice_desert_pct']);
    const cov = rows.find((r) => r.key === 'coverage_pct')!;
    expect(cov).toMatchObject({ a: '0.0%', b: '30.1%' });
    expect(cov.diff).toMatchObject({ cls: 'better', text: '+30.1 pts' });
    expect(rows.find((r) => r.key === 'hours_gap_pct')!.diff.cls).toBe('same');
    expect(rows.find((r) => r.key === 'mean_travel_min')!.a).toBe('none');
  });
  it('lists quintiles in order, B against A\'s same quintile', () => {
    const a = quintileRows(metrics());
    expect(a.map((r) => r.quintile)).toEqual([1, 2]);
    expect(a[0].cells.every((c) => c.diff === null)).toBe(true);
    const b = quintileRows(hubs, metrics());
    const q1 = b[0].cells;
    expect(q1.map((c) => c.key)).toEqual(['coverage_pct', 'mean_travel_min', 'p95_travel_min', 'hours_gap_pct', 'providers_mean']);
    expect(q1[0]).toMatchObject({ text: '50.2', full: '50.2%', diff: { cls: 'better' } });
    expect(q1[3]).toMatchObject({ text: '90.0', diff: { cls: 'better' } });
    // Withheld on either side: not comparable.
    expect(b[1].cells[3]).toMatchObject({ text: '—', full: 'withheld', diff: { cls: 'unknown' } });
  });
});

describe('area change classes', () => {
  it('classes coverage as gained, lost, both or neither', () => {
    expect(coverageClass({ covered_a: false, covered_b: true })).toBe(COVERAGE_CLASSES.gained);
    expect(coverageClass({ covered_a: true, covered_b: false })).toBe(COVERAGE_CLASSES.lost);
    expect(coverageClass({ covered_a: true, covered_b: true })).toBe(COVERAGE_CLASSES.both);
    expect(coverageClass({ covered_a: false, covered_b: false })).toBe(COVERAGE_CLASSES.neither);
    expect(coverageClass(null)).toBeNull();
  });
  it('classes the change in travel time, with reach gained or lost', () => {
    const t = (a: number | null, b: number | null): number | null => travelClass({ travel_time_min_a: a, travel_time_min_b: b });
    expect(t(null, 7.5)).toBe(TRAVEL_CLASSES.newReach);
    expect(t(7.5, null)).toBe(TRAVEL_CLASSES.lostReach);
    expect(t(null, null)).toBeNull();
    expect(t(10, 10.5)).toBe(TRAVEL_CLASSES.same);
    expect(t(10, 12)).toBe(TRAVEL_CLASSES.slower1);
    expect(t(10, 15)).toBe(TRAVEL_CLASSES.slower5);
    expect(t(10, 8)).toBe(TRAVEL_CLASSES.faster1);
    expect(t(10, 5)).toBe(TRAVEL_CLASSES.faster5);
    const area = { area_id: 'DZ1', travel_time_min_a: null, travel_time_min_b: 5, covered_a: false, covered_b: true };
    expect(compareClass(area, 'coverage')).toBe(COVERAGE_CLASSES.gained);
    expect(compareClass(area, 'travel')).toBe(TRAVEL_CLASSES.newReach);
  });
  it('builds the legends with counts', () => {
    const l = compareLegend([3, 3, 1, null], 'coverage', { a: 'baseline', b: 'hubs', kind: 'hub', thresholdMin: 15 });
    expect(l.rows.map((r) => [r.key, r.count])).toEqual([
      ['gained', 2],
      ['lost', 0],
      ['neither', 1],
    ]);
    expect(l.noData).toBe(1);
    expect(l.title).toBe('Change in coverage: hub');
    const t = compareLegend([6, 3], 'travel', { a: 'baseline', b: 'hubs', kind: 'hub', thresholdMin: 15, method: 'road network' });
    expect(t.rows.map((r) => r.key)).toEqual(['new_reach', 'same']);
    expect(t.footnote).toBe('Travel: road network.');
  });
});

describe('scenario lists', () => {
  it('offers baseline first, then the saved names', () => {
    expect(scenarioChoices([{ name: 'b' }, { name: 'a' }])).toEqual(['baseline', 'b', 'a']);
  });
  it('adds the kinds that scenarios add to the workspace\'s kinds', () => {
    const s = { edits: [{ op: 'add' as const, id: 'HUB-1', name: 'x', kind: 'hub', lon: 0, lat: 0 }, { op: 'close' as const, id: 'SCH-1' }] };
    expect(addedKinds(s)).toEqual(['hub']);
    expect(compareKinds(['school', 'health_centre'], [s, null])).toEqual(['school', 'health_centre', 'hub']);
    expect(compareKinds(['hub'], [s])).toEqual(['hub']);
  });
  it('summarises a saved scenario', () => {
    expect(scenarioMeta({ edits: 5, updated: '2026-11-23T16:22:27Z' })).toBe('5 edits · updated 2026-11-23 16:22');
    expect(scenarioMeta({ edits: 1, updated: null })).toBe('1 edit');
  });
  it('turns failures into friendly messages naming the bad edit', () => {
    expect(scenarioErrorMessage('save “x”', { status: 400, message: 'edit 2: no premises "X"' })).toBe('Could not save “x”: edit 2: no premises "X".');
    expect(scenarioErrorMessage('list the saved scenarios', { status: 0, message: 'x' })).toMatch(/could not be reached/);
    expect(scenarioErrorMessage('delete “x”', { status: 500, message: 'disk full' })).toBe('Sorry, could not delete “x” (disk full).');
  });
});
