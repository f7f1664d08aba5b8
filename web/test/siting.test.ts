import { describe, expect, it } from 'vitest';
import { isExpression, validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl';
import { SRC_AREAS, baseStyle, planLayer, vectorSource } from '../src/style';
import { COMPARE_STATE_KEY, TRAVEL_COLOURS } from '../src/scenarios';
import { sitingUrl, type PremisesCollection, type SitingParams, type SitingResponse } from '../src/api';
import {
  SITING_CLASS,
  SITING_STATE_KEY,
  classFillExpression,
  classOpacityExpression,
  defaultBaseline,
  defaultCandidates,
  defaultScenarioName,
  equityLines,
  gapText,
  hubEdits,
  kindNameProblem,
  objectiveText,
  parseIdList,
  pointsChange,
  scenarioDescription,
  scenarioNameProblem,
  siteFacts,
  sitingClass,
  sitingErrorMessage,
  sitingLegend,
  sitingPrecheck,
} from '../src/siting';

const params = (o: Partial<SitingParams> = {}): SitingParams => ({
  model: 'mclp',
  candidates: ['school', 'health_centre'],
  p: 5,
  thresholdMin: 15,
  weight: 'population',
  keep: [],
  baseline: 'social_work_office',
  ...o,
});

const KINDS = ['care_provider', 'health_centre', 'school', 'social_work_office'];

const premises: PremisesCollection = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', geometry: { type: 'Point', coordinates: [-3.7, 55.7] }, properties: { premises_id: 'SCH-0010', name: 'Westmuir School 10', kind: 'school', services: '', capacity: null, provider: null, opening_hours: null } },
    { type: 'Feature', geometry: { type: 'Point', coordinates: [-3.6, 55.7] }, properties: { premises_id: 'SWO-0001', name: 'Office', kind: 'social_work_office', services: '', capacity: null, provider: null, opening_hours: null } },
  ],
};

const response: SitingResponse = {
  model: 'mclp',
  weight: 'population',
  p: 2,
  threshold_min: 15,
  method: 'road network, 15 km/h',
  objective: 300000,
  objective_unit: 'demand weight within the threshold',
  gap_pct: 0.644,
  proven_optimal: false,
  total_weight: 400000,
  sites: [
    { premises_id: 'SCH-0010', name: 'Westmuir School 10', kind: 'school', lon: -3.729537, lat: 55.657128, weight_served: 93987, areas_served: 125 },
    { premises_id: 'HEA-0024', name: 'Almond Vale Health Centre 24', kind: 'health_centre', lon: -3.506328, lat: 55.703933, weight_served: '<10', areas_served: 3 },
  ],
  areas: [],
  equity: [
    { simd_quintile: 2, demand: 79942, covered_before_pct: 93.1, covered_after_pct: 100 },
    { simd_quintile: 1, demand: 91842, covered_before_pct: 92.1, covered_after_pct: 100 },
  ],
};

describe('siting request', () => {
  it('builds the URL with lists unescaped, leaving out what is not set and p for LSCP', () => {
    expect(sitingUrl(params())).toBe('/api/siting?model=mclp&candidates=school,health_centre&p=5&threshold_min=15&weight=population&baseline=social_work_office');
    expect(sitingUrl(params({ model: 'lscp', baseline: null, keep: ['SCH-0010', 'SCH-0063'], seed: 3 }))).toBe(
      '/api/siting?model=lscp&candidates=school,health_centre&threshold_min=15&weight=population&keep=SCH-0010,SCH-0063&seed=3',
    );
  });
  it('chooses schools and health centres, and social work offices as baseline, when present', () => {
    expect(defaultCandidates(KINDS)).toEqual(['school', 'health_centre']);
    expect(defaultCandidates(['nursery', 'care_provider'])).toEqual(['nursery']);
    expect(defaultCandidates([])).toEqual([]);
    expect(defaultBaseline(KINDS)).toBe('social_work_office');
    expect(defaultBaseline(['school'])).toBeNull();
  });
  it('reads a list of premises ids', () => {
    expect(parseIdList(' SCH-0010, SCH-0063 ;SCH-0010  ')).toEqual(['SCH-0010', 'SCH-0063']);
    expect(parseIdList('')).toEqual([]);
  });
  it('refuses in plain words what the server would refuse', () => {
    const ctx = { kinds: KINDS, premises };
    expect(sitingPrecheck(params(), ctx)).toBeNull();
    expect(sitingPrecheck(params({ candidates: [] }), ctx)).toMatch(/Tick at least one/);
    expect(sitingPrecheck(params({ candidates: ['hub'] }), ctx)).toMatch(/no hub premises/);
    expect(sitingPrecheck(params({ p: 0 }), ctx)).toMatch(/whole number from 1 to 500/);
    expect(sitingPrecheck(params({ p: 2.5 }), ctx)).toMatch(/whole number/);
    expect(sitingPrecheck(params({ p: NaN }), ctx)).toMatch(/whole number/);
    // LSCP chooses how many: p is not checked.
    expect(sitingPrecheck(params({ model: 'lscp', p: NaN }), ctx)).toBeNull();
    expect(sitingPrecheck(params({ thresholdMin: 0 }), ctx)).toMatch(/between 1 and 180/);
    expect(sitingPrecheck(params({ baseline: 'hub' }), ctx)).toMatch(/no hub premises to compare with/);
    expect(sitingPrecheck(params({ keep: ['SCH-0010'] }), ctx)).toBeNull();
    expect(sitingPrecheck(params({ keep: ['NOPE'] }), ctx)).toMatch(/No premises “NOPE”/);
    expect(sitingPrecheck(params({ keep: ['SWO-0001'] }), ctx)).toMatch(/not one of the candidate kinds/);
  });
  it('turns server errors into friendly messages', () => {
    expect(sitingErrorMessage({ status: 400, message: 'p must be between 1 and 500' })).toBe('The sites could not be chosen: p must be between 1 and 500.');
    expect(sitingErrorMessage({ status: 0, message: 'x' })).toMatch(/could not be reached/);
    expect(sitingErrorMessage({ status: 500, message: 'boom' })).toBe('Sorry, the sites could not be chosen (boom).');
  });
});

describe('siting result texts', () => {
  it('gives the objective with its unit and, for MCLP, the share of all demand', () => {
    expect(objectiveText(response)).toBe('300,000 demand weight within the threshold (75.0% of all demand, 400,000)');
    expect(objectiveText({ ...response, model: 'p_center', objective: 12.5, objective_unit: 'minutes to the farthest area' })).toBe('12.5 minutes to the farthest area');
    expect(objectiveText({ ...response, model: 'mclp', objective: '<10', total_weight: '<10' })).toBe('<10 demand weight within the threshold');
  });
  it('states the optimality gap rounded up, or proven optimality', () => {
    expect(gapText(response)).toBe('optimality gap ≤ 0.65 %');
    expect(gapText({ gap_pct: 20, proven_optimal: false })).toBe('optimality gap ≤ 20 %');
    expect(gapText({ gap_pct: 0.5, proven_optimal: false })).toBe('optimality gap ≤ 0.5 %');
    expect(gapText({ gap_pct: 0, proven_optimal: true })).toBe('proven optimal');
    expect(gapText({ gap_pct: null, proven_optimal: false })).toBe('optimality gap not known');
  });
  it('describes a site for its popup, withheld counts as sent', () => {
    expect(siteFacts(response.sites[0], 'population')).toEqual([
      ['Kind', 'School'],
      ['Premises', 'SCH-0010'],
      ['Areas served', '125'],
      ['Residents served', '93,987'],
    ]);
    expect(siteFacts(response.sites[1], 'referrals')[3]).toEqual(['Referrals served', '<10']);
  });
  it('lists equity by quintile, most deprived first, with the change in points', () => {
    const lines = equityLines(response, true);
    expect(lines.map((l) => l.quintile)).toEqual([1, 2]);
    expect(lines[0]).toMatchObject({ label: '1 (most deprived)', demand: '91,842', before: '92.1%', after: '100.0%', change: '+7.9 pts' });
    expect(lines[0].spoken).toBe('SIMD quintile 1 (most deprived): covered 92.1% before, 100.0% after (+7.9 pts).');
    // Without a baseline there is no "before".
    const alone = equityLines(response, false);
    expect(alone[0]).toMatchObject({ before: '—', change: '—', after: '100.0%' });
  });
  it('writes changes in points with a true minus sign', () => {
    expect(pointsChange(50, 57.25)).toBe('+7.3 pts');
    expect(pointsChange(60, 58)).toBe('−2.0 pts');
    expect(pointsChange(60, 60.01)).toBe('no change');
    expect(pointsChange(null, 60)).toBeNull();
  });
});

describe('siting area classes', () => {
  it('classes areas as newly covered, covered by both, already covered or not covered', () => {
    expect(sitingClass({ covered: true, covered_before: false, newly_covered: true })).toBe(SITING_CLASS.new);
    expect(sitingClass({ covered: true, covered_before: true, newly_covered: false })).toBe(SITING_CLASS.both);
    expect(sitingClass({ covered: false, covered_before: true, newly_covered: false })).toBe(SITING_CLASS.before);
    expect(sitingClass({ covered: false, covered_before: false, newly_covered: false })).toBe(SITING_CLASS.none);
    expect(sitingClass(null)).toBeNull();
  });
  it('builds a legend with counts, naming the baseline', () => {
    const l = sitingLegend([3, 3, 2, 0, null], { baseline: 'social_work_office', thresholdMin: 15, method: 'road network' });
    expect(l.rows.map((r) => [r.key, r.count])).toEqual([
      ['new', 2],
      ['both', 1],
      ['none', 1],
    ]);
    expect(l.rows[1].label).toBe('Covered by a new site and a social work office');
    expect(l.noData).toBe(1);
    expect(l.note).toMatch(/against social work office premises today/);
    const alone = sitingLegend([3, 0], { baseline: null, thresholdMin: 15 });
    expect(alone.rows[0].label).toBe('Covered by the new sites');
  });
  it('colours the overlay from feature-state with valid expressions', () => {
    const fill = classFillExpression(SITING_STATE_KEY, ['#f0f0f0', '#c6dbef', '#6baed6', '#f16913']);
    expect(isExpression(fill)).toBe(true);
    expect(JSON.stringify(fill)).toContain('"feature-state","siting_class"');
    expect(isExpression(classOpacityExpression(SITING_STATE_KEY))).toBe(true);
  });
  it('draws the planning overlay with a layer that passes MapLibre validation, for both overlays', () => {
    for (const [key, colours] of [
      [SITING_STATE_KEY, ['#f0f0f0', '#c6dbef', '#6baed6', '#f16913']],
      [COMPARE_STATE_KEY, TRAVEL_COLOURS],
    ] as const) {
      const layer = planLayer() as LayerSpecification & { paint: Record<string, unknown>; layout: Record<string, unknown> };
      layer.paint['fill-color'] = classFillExpression(key, colours);
      layer.paint['fill-opacity'] = classOpacityExpression(key);
      layer.layout.visibility = 'visible';
      const style: StyleSpecification = { ...baseStyle(), sources: { [SRC_AREAS]: vectorSource('areas', 'http://h') } };
      style.layers.push(layer);
      expect(validateStyleMin(style).map((e) => e.message)).toEqual([]);
    }
  });
});

describe('saving a siting as a scenario', () => {
  it('adds a premises of the new kind at each site, copying nothing else', () => {
    const edits = hubEdits([...response.sites, response.sites[0]], 'hub');
    expect(edits).toEqual([
      { op: 'add', id: 'HUB-SCH-0010', name: 'Westmuir School 10 (hub)', kind: 'hub', lon: -3.729537, lat: 55.657128 },
      { op: 'add', id: 'HUB-HEA-0024', name: 'Almond Vale Health Centre 24 (hub)', kind: 'hub', lon: -3.506328, lat: 55.703933 },
    ]);
  });
  it('names scenarios like hubs-mclp-5 and checks names and kinds', () => {
    expect(defaultScenarioName('mclp', 5)).toBe('hubs-mclp-5');
    expect(defaultScenarioName('p_median', 3)).toBe('hubs-p_median-3');
    expect(scenarioNameProblem('hubs-mclp-5')).toBeNull();
    expect(scenarioNameProblem('')).toMatch(/name/);
    expect(scenarioNameProblem('has space')).toMatch(/letters, digits/);
    expect(scenarioNameProblem('x'.repeat(65))).toMatch(/64/);
    expect(scenarioNameProblem('baseline')).toMatch(/baseline/);
    expect(kindNameProblem('hub')).toBeNull();
    expect(kindNameProblem('')).toMatch(/kind/);
    expect(kindNameProblem('a/b')).toMatch(/letters/);
  });
  it('describes the scenario', () => {
    expect(scenarioDescription(response, ['school', 'health_centre'], 'hub')).toBe(
      '2 hub premises at sites chosen by MCLP among school, health centre within 15 min, weighted by population',
    );
  });
});
