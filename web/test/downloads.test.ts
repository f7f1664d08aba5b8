import { describe, expect, it } from 'vitest';
import { downloadName, exportUrl } from '../src/downloads';

describe('exportUrl', () => {
  it('adds the format and keeps the other parameters', () => {
    expect(exportUrl('/api/equity', 'csv')).toBe('/api/equity?format=csv');
    expect(exportUrl('/api/siting?model=mclp&candidates=school,gp&p=5', 'gpkg', 'sites')).toBe(
      '/api/siting?model=mclp&candidates=school,gp&p=5&format=gpkg&table=sites',
    );
  });
  it('replaces a format or table already there', () => {
    expect(exportUrl('/api/hours/gap?kind=gp&format=csv&table=areas', 'geojson', 'premises')).toBe(
      '/api/hours/gap?kind=gp&format=geojson&table=premises',
    );
    expect(exportUrl('/api/hours/gap?kind=gp&table=areas', 'csv')).toBe('/api/hours/gap?kind=gp&format=csv');
  });
});

describe('downloadName', () => {
  it('is a safe file name with the table and extension', () => {
    expect(downloadName('Siting: MCLP', 'gpkg', 'sites')).toBe('siting-mclp-sites.gpkg');
    expect(downloadName('need map', 'geojson')).toBe('need-map.geojson');
    expect(downloadName('***', 'csv')).toBe('needmap.csv');
  });
});

