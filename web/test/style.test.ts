import { describe, expect, it } from 'vitest';
import { baseStyle, boundaryStyle, hatchPattern, kindColours, premisesFilter } from '../src/style';

describe('style', () => {
  it('uses only a background layer: no basemap, glyphs or sprite', () => {
    const s = baseStyle();
    expect(s.layers.map((l) => l.type)).toEqual(['background']);
    expect(s.glyphs).toBeUndefined();
    expect(s.sprite).toBeUndefined();
    expect(Object.keys(s.sources)).toEqual([]);
  });
  it('gives every premises kind a distinct colour', () => {
    const kinds = ['school', 'nursery', 'health_centre', 'leisure_centre', 'social_work_office', 'care_provider', 'library', 'pharmacy'];
    const c = kindColours(kinds);
    expect(Object.keys(c)).toEqual(kinds);
    expect(new Set(Object.values(c)).size).toBe(kinds.length);
    expect(kindColours(['library', 'school']).school).toBe(c.school);
  });
  it('filters premises by visible kinds', () => {
    expect(premisesFilter(['school'])).toEqual(['in', ['get', 'kind'], ['literal', ['school']]]);
  });
  it('gives boundary sets distinct colours and dashes', () => {
    const a = boundaryStyle(0);
    const b = boundaryStyle(1);
    expect(a.colour).not.toBe(b.colour);
    expect(a.dash).not.toEqual(b.dash);
  });
  it('draws a diagonal hatch on transparent pixels', () => {
    const p = hatchPattern(8, '#d9d9d9', 2);
    expect(p.data).toHaveLength(8 * 8 * 4);
    const alpha = (x: number, y: number) => p.data[(y * 8 + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(255);
    expect(alpha(7, 1)).toBe(255);
    expect(alpha(3, 0)).toBe(0);
    expect(p.data[0]).toBe(0xd9);
  });
});
