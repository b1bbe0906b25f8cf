import { lookupModelConformance } from './catalog.conformance.ts';
import { openPgliteCatalog } from './pglite-catalog.ts';

// The shared contract (catalog.conformance.ts), on an in-memory PGlite catalog.
lookupModelConformance('PGlite', () => openPgliteCatalog(null));
