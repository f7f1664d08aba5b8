// Download links for results: the same API URL with `format=csv|geojson|gpkg`
// (and `table=` where a result has several tables). The server converts the
// JSON the map was shown (after disclosure control) into the file.

export type DownloadFormat = 'csv' | 'geojson' | 'gpkg';

export const FORMAT_LABELS: Record<DownloadFormat, string> = {
  csv: 'CSV',
  geojson: 'GeoJSON',
  gpkg: 'GeoPackage',
};

const EXTENSIONS: Record<DownloadFormat, string> = { csv: 'csv', geojson: 'geojson', gpkg: 'gpkg' };

/** The URL of a result as a file: `format` (and `table`) added, other parameters kept. */
export function exportUrl(url: string, format: DownloadFormat, table?: string | null): string {
  const [path, query = ''] = url.split('?', 2);
  const params = new URLSearchParams(query);
  params.delete('format');
  params.delete('table');
  params.set('format', format);
  if (table) params.set('table', table);
  return `${path}?${params.toString().replace(/%2C/g, ',')}`;
}

/** A file name for a download: the stem, the table when given, the extension. */
export function downloadName(stem: string, format: DownloadFormat, table?: string | null): string {
  const safe = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'needmap';
  return `${safe(stem)}${table ? `-${safe(table)}` : ''}.${EXTENSIONS[format]}`;
}

export interface DownloadTable {
  /** The `table=` value, or null for the route's only table. */
  table: string | null;
  label: string;
}

/**
 * A row of download links: for each table, one link per format. The links
 * are plain `<a download>` elements (the browser fetches the file itself).
 */
export function downloadLinks(
  doc: Document,
  url: string,
  stem: string,
  tables: readonly DownloadTable[] = [{ table: null, label: '' }],
  formats: readonly DownloadFormat[] = ['csv', 'geojson', 'gpkg'],
): HTMLElement {
  const box = doc.createElement('div');
  box.className = 'downloads';
  for (const t of tables) {
    const row = doc.createElement('p');
    row.className = 'download-row';
    const what = doc.createElement('span');
    what.className = 'muted';
    what.textContent = t.label ? `Download ${t.label}: ` : 'Download: ';
    row.append(what);
    formats.forEach((f, i) => {
      if (i > 0) row.append(doc.createTextNode(' · '));
      const a = doc.createElement('a');
      a.href = exportUrl(url, f, t.table);
      a.download = downloadName(stem, f, t.table);
      a.textContent = FORMAT_LABELS[f];
      a.dataset.format = f;
      if (t.table) a.dataset.table = t.table;
      row.append(a);
    });
    box.append(row);
  }
  return box;
}
