import { describe, expect, it } from 'vitest';
import { isExpression, validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import { coterminosityUrl, designUrl, splitsUrl, type CotermCell, type CotermUnit, type CoterminosityResponse, type DesignParams, type DesignResponse } from '../src/api';
import {
  COTERM_A_LINE,
  COTERM_B_LINE,
  DESIGN_FILL_OPACITY,
  DESIGN_LINE_COLOUR,
  LAYER_AREAS,
  SPLIT_CLASSES,
  SPLIT_FILL_OPACITY,
  UNIT_PALETTE,
  ariaSort,
  areasByUnit,
  ceilingText,
  cotermHeadlines,
  cotermPrecheck,
  csvField,
  defaultPair,
  defaultParent,
  designFileStem,
  designHoverText,
  designPrecheck,
  designVerdict,
  formatKm2,
  formatPoints,
  formatPopulation,
  formatShare,
  geometryBbox,
  harmonisationErrorMessage,
  infeasibleLines,
  infeasibleText,
  layerChoices,
  layerName,
  lookupCsv,
  matrixTopN,
  nextSort,
  parentColumns,
  parentLabel,
  prepareDesign,
  prepareSplits,
  proposalGeoJson,
  sortUnits,
  splitClass,
  splitFillExpression,
  splitHoverText,
  splitLegendRows,
  unitColourIndex,
  unitSummary,
  worstUnit,
} from '../src/coterminosity';
import {
  SRC_COTERM_SPLITS,
  SRC_DESIGN,
  baseStyle,
  boundarySourceId,
  cotermLineLayer,
  cotermSelectedLayer,
  designLayers,
  splitLayers,
  vectorSource,
} from '../src/style';

const unit = (code: string, index: number, population: number, o: Partial<CotermUnit> = {}): CotermUnit => ({
  code,
  name: `Unit ${code}`,
  population,
  area_km2: 1,
  dominant: 'B1',
  index,
  counterparts: 2,
  effective_counterparts: 1.5,
  ...o,
});

const square = (x: number, y: number, s = 1): GeoJSON.Polygon => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + s, y],
      [x + s, y + s],
      [x, y + s],
      [x, y],
    ],
  ],
});

const response = (o: Partial<CoterminosityResponse> = {}): CoterminosityResponse => ({
  a: 'teams',
  b: 'localities',
  fragmentation: 0.3929,
  fragmentation_a: 0.4669,
  fragmentation_b: 0.3929,
  units_a_split: 22,
  units_b_split: 23,
  slivers: 0,
  population_outside_a: 0,
  population_outside_b: 0,
  geometry_problems: 0,
  overlay_fallbacks: 0,
  units_a: [unit('T1', 0.7, 100), unit('T2', 0.3, 200)],
  units_b: [unit('L1', 0.9, 150)],
  splits: [],
  matrix: [],
  lookup: [],
  ...o,
});

describe('layer choices', () => {
  it('offers the small areas, then the boundary sets', () => {
    expect(layerChoices(['localities', 'teams'])).toEqual([
      { value: 'areas', label: 'Small areas' },
      { value: 'localities', label: 'Localities' },
      { value: 'teams', label: 'Teams' },
    ]);
    expect(layerName(LAYER_AREAS)).toBe('small areas');
    expect(layerName('teams')).toBe('teams');
  });
  it('compares the last set with the first, or one set with the areas', () => {
    expect(defaultPair(['localities', 'teams'])).toEqual({ a: 'teams', b: 'localities' });
    expect(defaultPair(['hscp'])).toEqual({ a: 'hscp', b: 'areas' });
    expect(defaultPair([])).toEqual({ a: 'areas', b: 'areas' });
  });
  it('nests designs in councils when present, else the coarsest roll-up level', () => {
    expect(parentColumns({ rollup_levels: ['iz_code', 'council_code'] })).toEqual(['iz_code', 'council_code']);
    expect(parentColumns({ parent_columns: ['hb'], rollup_levels: ['iz_code'] })).toEqual(['hb']);
    expect(parentColumns(null)).toEqual([]);
    expect(defaultParent(['iz_code', 'council_code'])).toBe('council_code');
    expect(defaultParent(['iz_code', 'hb_code'])).toBe('hb_code');
    expect(defaultParent([])).toBeNull();
    expect(parentLabel('council_code')).toBe('Council');
    expect(parentLabel('iz_code')).toBe('IZ');
  });
});

describe('number formatting', () => {
  it('writes shares as percentages with two decimals', () => {
    expect(formatShare(0.3929)).toBe('39.29 %');
    expect(formatShare(1)).toBe('100.00 %');
    expect(formatShare(0)).toBe('0.00 %');
    expect(formatShare(0.28, 1)).toBe('28.0 %');
    expect(formatShare(null)).toBe('—');
    expect(formatShare(Number.NaN)).toBe('—');
  });
  it('writes changes in percentage points with a sign', () => {
    expect(formatPoints(0.5272, 0.7549)).toBe('+22.77 points');
    expect(formatPoints(0.8615, 0.8137)).toBe('−4.78 points');
    expect(formatPoints(0.5, 0.5)).toBe('no change');
  });
  it('rounds apportioned populations and writes surfaces in km²', () => {
    expect(formatPopulation(2491.6)).toBe('2,492');
    expect(formatPopulation(null)).toBe('—');
    expect(formatKm2(1.1016)).toBe('1.10 km²');
    expect(formatKm2(56.44)).toBe('56.4 km²');
    expect(formatKm2(1234.5)).toBe('1,235 km²');
  });
});

describe('checks before asking', () => {
  const layers = ['areas', 'localities', 'teams'];
  it('refuses the same layer twice, unknown layers and split shares out of range', () => {
    expect(cotermPrecheck('teams', 'localities', 1, layers)).toBeNull();
    expect(cotermPrecheck('teams', 'teams', 1, layers)).toMatch(/two different layers/);
    expect(cotermPrecheck('teams', 'wards', 1, layers)).toMatch(/no layer “wards”/);
    expect(cotermPrecheck('teams', 'localities', 50, layers)).toMatch(/below 50 %/);
    expect(cotermPrecheck('teams', 'localities', -1, layers)).toMatch(/at least 0 %/);
    expect(cotermPrecheck('teams', 'localities', Number.NaN, layers)).toMatch(/split share/);
  });
  it('refuses designs without a parent, with an unknown layer or a tolerance out of range', () => {
    const ctx = { parents: ['iz_code', 'council_code'], layers };
    const q = { parent: 'council_code', target: 'localities', current: 'teams', tolerancePct: 20 };
    expect(designPrecheck(q, ctx)).toBeNull();
    expect(designPrecheck({ ...q, current: null }, ctx)).toBeNull();
    expect(designPrecheck(q, { ...ctx, parents: [] })).toMatch(/no parent/);
    expect(designPrecheck({ ...q, parent: 'ward' }, ctx)).toMatch(/parent/);
    expect(designPrecheck({ ...q, target: 'wards' }, ctx)).toMatch(/layer the new units should follow/);
    expect(designPrecheck({ ...q, current: 'wards' }, ctx)).toMatch(/no layer “wards”/);
    expect(designPrecheck({ ...q, tolerancePct: 0.5 }, ctx)).toMatch(/between 1 % and 90 %/);
    expect(designPrecheck({ ...q, tolerancePct: 91 }, ctx)).toMatch(/between 1 % and 90 %/);
  });
  it('turns server errors into friendly messages', () => {
    expect(harmonisationErrorMessage('compare teams with localities', { status: 404, message: 'no layer "x"; layers are: areas.' })).toBe(
      'Could not compare teams with localities: no layer "x"; layers are: areas.',
    );
    expect(harmonisationErrorMessage('propose units', { status: 0, message: 'x' })).toMatch(/could not be reached/);
    expect(harmonisationErrorMessage('propose units', { status: 500, message: 'boom' })).toBe('Sorry, could not propose units (boom).');
  });
  it('builds the request URLs', () => {
    expect(coterminosityUrl('teams', 'localities', 0.01)).toBe('/api/coterminosity?a=teams&b=localities&split_share=0.01');
    expect(splitsUrl('teams', 'localities')).toBe('/api/coterminosity/splits?a=teams&b=localities');
    const q: DesignParams = { parent: 'council_code', target: 'localities', current: 'teams', tolerance: 0.2, balance: 'population' };
    expect(designUrl(q)).toBe('/api/design?parent=council_code&target=localities&current=teams&tolerance=0.2&balance=population');
    expect(designUrl({ ...q, current: null })).toBe('/api/design?parent=council_code&target=localities&tolerance=0.2&balance=population');
  });
});

describe('headline figures', () => {
  it('gives fragmentation, splits, slivers and geometry problems in order', () => {
    const h = cotermHeadlines(response());
    expect(h.map((x) => x.key)).toEqual(['fragmentation', 'fragmentation_a', 'fragmentation_b', 'units_a_split', 'units_b_split', 'slivers', 'geometry_problems']);
    expect(h[0].value).toBe('39.29 %');
    expect(h[3].value).toBe('22 of 2');
    expect(h[6].long).toMatch(/No geometry problems/);
  });
  it('mentions overlay fallbacks and residents outside either layer when there are some', () => {
    const h = cotermHeadlines(response({ geometry_problems: 2, overlay_fallbacks: 1, population_outside_a: 12.4 }));
    expect(h.find((x) => x.key === 'geometry_problems')?.value).toBe('2 (1 overlay fallback)');
    expect(h.find((x) => x.key === 'population_outside')?.value).toBe('12 / 0');
  });
});

describe('the unit table', () => {
  const units = [unit('T10', 0.5, 100), unit('T2', 0.3, 50), unit('T3', 0.3, 80), unit('T1', 0.9, 300)];
  it('puts the least co-terminous first, ties to the larger population', () => {
    expect(sortUnits(units).map((u) => u.code)).toEqual(['T3', 'T2', 'T10', 'T1']);
    expect(worstUnit(units)?.code).toBe('T3');
    expect(worstUnit([])).toBeNull();
  });
  it('sorts by population, code (numeric) and counterparts, either way', () => {
    expect(sortUnits(units, 'population', 'desc').map((u) => u.code)).toEqual(['T1', 'T10', 'T3', 'T2']);
    expect(sortUnits(units, 'code', 'asc').map((u) => u.code)).toEqual(['T1', 'T2', 'T3', 'T10']);
    expect(sortUnits(units, 'index', 'desc').map((u) => u.code)).toEqual(['T1', 'T10', 'T3', 'T2']);
    const parts = [unit('A', 0.5, 1, { effective_counterparts: 3 }), unit('B', 0.5, 1, { effective_counterparts: 1.2 })];
    expect(sortUnits(parts, 'counterparts', 'desc').map((u) => u.code)).toEqual(['A', 'B']);
  });
  it('does not change the list it is given', () => {
    const copy = units.map((u) => u.code);
    sortUnits(units, 'code');
    expect(units.map((u) => u.code)).toEqual(copy);
  });
  it('flips the same column and starts others in their natural direction', () => {
    expect(nextSort({ key: 'index', dir: 'asc' }, 'index')).toEqual({ key: 'index', dir: 'desc' });
    expect(nextSort({ key: 'index', dir: 'asc' }, 'population')).toEqual({ key: 'population', dir: 'desc' });
    expect(nextSort({ key: 'population', dir: 'desc' }, 'code')).toEqual({ key: 'code', dir: 'asc' });
    expect(ariaSort('index', { key: 'index', dir: 'asc' })).toBe('ascending');
    expect(ariaSort('index', { key: 'index', dir: 'desc' })).toBe('descending');
    expect(ariaSort('code', { key: 'index', dir: 'asc' })).toBe('none');
  });
  it('describes a row in words', () => {
    expect(unitSummary(unit('T9', 0.28, 12345.4, { name: 'Team 9', dominant: 'LOC4', counterparts: 3, effective_counterparts: 2.66 }), 'localities')).toBe(
      'Team 9 (T9): 28.0 % of 12,345 residents inside LOC4; 3 counterparts (effectively 2.7)',
    );
  });
});

describe('the intersection matrix', () => {
  const cell = (a: string, b: string, population: number, o: Partial<CotermCell> = {}): CotermCell => ({ a, b, population, area_km2: 1, sliver: false, ...o });
  const matrix = [cell('T1', 'L1', 500), cell('T1', 'L2', 20), cell('T2', 'L2', 400), cell('T2', 'L3', 300), cell('T3', 'L3', 10), cell('T10', 'L1', 300, { area_km2: 2 })];
  it('keeps the units of the N most populous cells, in code order, filled from the full matrix', () => {
    const v = matrixTopN(matrix, 3);
    expect(v.n).toBe(3);
    expect(v.total).toBe(6);
    // 500, 400, then the 300 with the larger surface (T10 ∩ L1).
    expect(v.rows).toEqual(['T1', 'T2', 'T10']);
    expect(v.cols).toEqual(['L1', 'L2']);
    expect(v.cells.map((r) => r.map((c) => c?.population ?? null))).toEqual([
      [500, 20],
      [null, 400],
      [300, null],
    ]);
    expect(v.top).toEqual([
      [true, false],
      [false, true],
      [true, false],
    ]);
  });
  it('copes with N larger than the matrix, and with none', () => {
    expect(matrixTopN(matrix, 100).n).toBe(6);
    expect(matrixTopN(matrix, 100).rows).toEqual(['T1', 'T2', 'T3', 'T10']);
    expect(matrixTopN([], 5)).toEqual({ rows: [], cols: [], cells: [], top: [], total: 0, n: 0 });
  });
});

describe('split pieces', () => {
  const pieces = prepareSplits({
    type: 'FeatureCollection',
    features: [0.01, 0.05, 0.2, 0.29, 0.6].map((share, i) => ({ type: 'Feature', properties: { unit: `T${i}`, counterpart: 'L1', population: 1000 * share, share }, geometry: square(i, 0) })),
  });
  it('gives each piece an id for hover', () => {
    expect(pieces.features.map((f) => f.id)).toEqual([0, 1, 2, 3, 4]);
  });
  it('classes pieces by their share of the unit and counts them for the legend', () => {
    expect([0, 0.049, 0.05, 0.15, 0.3, 0.9, null].map((s) => splitClass(s))).toEqual([0, 0, 1, 2, 3, 3, 0]);
    expect(splitLegendRows(pieces.features).map((r) => r.count)).toEqual([1, 1, 2, 1]);
    expect(splitLegendRows(pieces.features).map((r) => r.colour)).toEqual(SPLIT_CLASSES.map((c) => c.colour));
  });
  it('colours them with a valid step expression', () => {
    const e = splitFillExpression();
    expect(isExpression(e)).toBe(true);
    expect(JSON.stringify(e)).toContain('"share"');
  });
  it('says unit → counterpart and share on hover', () => {
    expect(splitHoverText({ unit: 'T001', counterpart: 'LOC006', share: 0.2872, population: 2491.6 }, 'Team 1')).toBe('T001 → LOC006: 28.72 % of Team 1 (2,492 residents)');
    expect(splitHoverText({ unit: 'T001', counterpart: 'LOC006', share: 0.2872 })).toBe('T001 → LOC006: 28.72 % of T001');
    expect(splitHoverText(null)).toBe('Split piece');
  });
});

describe('extents', () => {
  it('boxes polygons, multipolygons and collections', () => {
    expect(geometryBbox([square(0, 0), { type: 'MultiPolygon', coordinates: [square(2, 3).coordinates] }])).toEqual([0, 0, 3, 4]);
    expect(geometryBbox([{ type: 'GeometryCollection', geometries: [square(-1, -1, 0.5)] }, null])).toEqual([-1, -1, -0.5, -0.5]);
    expect(geometryBbox([])).toBeNull();
    expect(geometryBbox([null, undefined])).toBeNull();
  });
  it('lists the small areas of each unit from the lookup', () => {
    const m = areasByUnit(
      [
        { area_id: 'D1', a: 'T1', b: 'L1' },
        { area_id: 'D2', a: 'T1', b: 'L2' },
        { area_id: 'D3', a: null, b: 'L2' },
      ],
      'a',
    );
    expect([...m.entries()]).toEqual([['T1', ['D1', 'D2']]]);
  });
});

describe('the designer', () => {
  it('gives touching units different colours', () => {
    const boxes: [number, number, number, number][] = [
      [0, 0, 1, 1],
      [1, 0, 2, 1],
      [0, 1, 1, 2],
      [1, 1, 2, 2],
      [5, 5, 6, 6],
    ];
    const idx = unitColourIndex(boxes);
    // The four squares around (1, 1) all touch each other.
    expect(new Set(idx.slice(0, 4)).size).toBe(4);
    expect(idx.every((i) => i >= 0 && i < UNIT_PALETTE.length)).toBe(true);
    // With two colours, touching units share one only when they must.
    expect(unitColourIndex([[0, 0, 1, 1], [1, 0, 2, 1], [10, 10, 11, 11]], 2)).toEqual([0, 1, 0]);
    expect(unitColourIndex([null, null])).toEqual([0, 0]);
  });
  it('prepares the units with an id and a colour', () => {
    const fc = prepareDesign({
      features: [0, 1].map((i) => ({
        type: 'Feature' as const,
        id: i,
        properties: { unit_id: `U00${i + 1}`, parent: 'CA01', aligned_with: 'L1', areas: 3, weight: 100, within_tolerance: true },
        geometry: square(i, 0),
      })),
    });
    expect(fc.features.map((f) => f.id)).toEqual([0, 1]);
    expect(fc.features[0].properties.colour).not.toBe(fc.features[1].properties.colour);
    expect(fc.features[1].properties.unit_id).toBe('U002');
  });
  it('states plainly whether the proposal is more co-terminous than today', () => {
    const better = designVerdict({ coterminosity_before: 0.5272, coterminosity_after: 0.7549 }, { target: 'localities', current: 'teams' });
    expect(better.cls).toBe('better');
    expect(better.text).toBe("After ≥ before: the proposal is more co-terminous with localities than today's teams: 52.72 % before → 75.49 % after (+22.77 points).");
    expect(designVerdict({ coterminosity_before: 0.8, coterminosity_after: 0.8 }, { target: 'localities', current: 'teams' }).cls).toBe('same');
    const worse = designVerdict({ coterminosity_before: 0.8615, coterminosity_after: 0.8137 }, { target: 'localities', current: 'localities' });
    expect(worse.cls).toBe('worse');
    expect(worse.text).toMatch(/^After < before: .*86\.15 % before → 81\.37 % after \(−4\.78 points\)\. .*wider tolerance/);
    const none = designVerdict({ coterminosity_before: null, coterminosity_after: 0.8091 }, { target: 'localities', current: null });
    expect(none).toEqual({ cls: 'none', text: "The proposed units are 80.91 % co-terminous with localities. Choose a current layer to compare with today's boundaries." });
  });
  it('explains the ceiling', () => {
    expect(ceilingText({ ceiling: 1, coterminosity_after: 0.7549 }, 'localities')).toMatch(/^Ceiling 100\.00 %: .*24\.51 points below it\.$/);
    expect(ceilingText({ ceiling: 0.9, coterminosity_after: 0.9 }, 'localities')).toMatch(/the proposal reaches it\.$/);
  });
  it('turns the server’s infeasibility entries into sentences with codes', () => {
    const ctx = {
      units: [
        { unit_id: 'U001', parent: 'CA02' },
        { unit_id: 'U002', parent: 'CA01' },
      ],
      areaIds: ['DZ1', 'DZ2', 'DZ3'],
      balance: 'population',
    };
    expect(infeasibleText('Unbalanced { parent: 0, unit: 1, weight: 16110.0, band: [16299.657, 16628.943] }', ctx)).toBe('U002 (CA01) has 16,110 residents, below the allowed 16,300–16,629.');
    expect(infeasibleText('Unbalanced { parent: 1, unit: 0, weight: 1.7e4, band: [100.0, 200.0] }', ctx)).toBe('U001 (CA02) has 17,000 residents, above the allowed 100–200.');
    expect(infeasibleText('AreaTooHeavy { parent: 1, area: 2, weight: 815.0, high: 785.7961363636364 }', { ...ctx, balance: 'referrals' })).toBe(
      'Small area DZ3 (CA02) alone has 815 referrals, more than a unit may hold (786).',
    );
    expect(infeasibleText('Something else entirely', ctx)).toBe('Something else entirely');
    expect(infeasibleText({ kind: 'unbalanced', message: 'unit U003 in CA01 weighs 17832, outside 14570-17807' }, ctx)).toBe(
      'unit U003 in CA01 weighs 17832, outside 14570-17807',
    );
    const many = infeasibleLines(Array.from({ length: 11 }, () => 'x'), ctx, 8);
    expect(many.lines).toHaveLength(8);
    expect(many.more).toBe(3);
  });
  it('describes a unit on hover', () => {
    expect(designHoverText({ unit_id: 'U003', parent: 'CA01', aligned_with: 'LOC007', weight: 19319, within_tolerance: true }, 'population')).toBe(
      'Proposed unit U003 (CA01), following LOC007: 19,319 residents',
    );
    expect(designHoverText({ unit_id: 'U004', parent: 'IZ1', aligned_with: null, weight: '<10', within_tolerance: false }, 'referrals')).toBe(
      'Proposed unit U004 (IZ1), not aligned with a target unit: <10 referrals (outside the tolerance)',
    );
  });
});

describe('downloads', () => {
  it('quotes CSV fields only when needed', () => {
    expect(csvField('DZ000001')).toBe('DZ000001');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(null)).toBe('');
    expect(csvField(3)).toBe('3');
  });
  it('writes the lookup as area_id,unit_id with CRLF line ends', () => {
    expect(
      lookupCsv([
        { area_id: 'DZ000001', unit_id: 'U010' },
        { area_id: 'DZ,2', unit_id: 'U001' },
      ]),
    ).toBe('area_id,unit_id\r\nDZ000001,U010\r\n"DZ,2",U001\r\n');
    expect(lookupCsv([])).toBe('area_id,unit_id\r\n');
  });
  it('writes the proposal as a GeoJSON FeatureCollection without the lookup', () => {
    const q: DesignParams = { parent: 'council_code', target: 'localities', current: 'teams', tolerance: 0.2, balance: 'population' };
    const r: DesignResponse = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', id: 0, properties: { unit_id: 'U001', parent: 'CA01', aligned_with: 'LOC007', areas: 22, weight: 19319, within_tolerance: true }, geometry: square(0, 0) }],
      coterminosity_before: 0.5272,
      coterminosity_after: 0.7549,
      ceiling: 1,
      infeasible: [],
      tolerance: 0.2,
      balance: 'population',
      lookup: [{ area_id: 'DZ1', unit_id: 'U001' }],
    };
    const out = JSON.parse(proposalGeoJson(r, q));
    expect(out.type).toBe('FeatureCollection');
    expect(out.features).toHaveLength(1);
    expect(out.features[0].properties.unit_id).toBe('U001');
    expect(out.coterminosity_after).toBe(0.7549);
    expect(out.current).toBe('teams');
    expect(out.lookup).toBeUndefined();
    expect(designFileStem(q)).toBe('needmap-design-council_code-localities-20pct');
    expect(designFileStem({ ...q, tolerance: 0.125 })).toBe('needmap-design-council_code-localities-12_5pct');
  });
});

describe('map layers', () => {
  it('pass MapLibre validation: outlines, selection, split pieces and a design', () => {
    const style: StyleSpecification = {
      ...baseStyle(),
      sources: {
        areas: vectorSource('areas', 'http://h'),
        [boundarySourceId(1)]: vectorSource('teams', 'http://h'),
        [SRC_COTERM_SPLITS]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
        [SRC_DESIGN]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
    };
    const teams = { source: boundarySourceId(1), sourceLayer: 'teams', idProp: 'boundary_id' };
    const areas = { source: 'areas', sourceLayer: 'areas', idProp: 'area_id' };
    style.layers.push(
      ...splitLayers(splitFillExpression(), SPLIT_FILL_OPACITY),
      ...designLayers(DESIGN_FILL_OPACITY, DESIGN_LINE_COLOUR),
      cotermLineLayer('coterm-a-line', teams, COTERM_A_LINE),
      cotermLineLayer('coterm-b-line', areas, COTERM_B_LINE),
      cotermSelectedLayer(teams, 'T001'),
    );
    expect(validateStyleMin(style).map((e) => e.message)).toEqual([]);
  });
});
