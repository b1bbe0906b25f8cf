/**
 * The catalog's part of a backup: its two tables as CSV (src/catalog/catalog-export.ts). Only a
 * catalog that can export them (the embedded PGlite one) can be backed up; others are 501.
 */
import type { CatalogTables } from '../catalog/catalog-export.ts';
import type { Catalog } from '../catalog/types.ts';
import { DbError } from '../core/errors.ts';

interface ExportingCatalog {
  exportTables(): Promise<CatalogTables>;
}

const canExport = (c: Catalog): c is Catalog & ExportingCatalog =>
  typeof (c as Partial<ExportingCatalog>).exportTables === 'function';

/** The catalog's export function; 501 when this kind of catalog cannot be backed up. */
export function catalogTablesOf(catalog: Catalog): () => Promise<CatalogTables> {
  if (!canExport(catalog)) {
    throw new DbError(501, 'this catalog cannot be backed up by arbor backup (back it up with its own tools)');
  }
  return () => catalog.exportTables();
}
