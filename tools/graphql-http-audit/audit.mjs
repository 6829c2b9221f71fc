// GraphQL-over-HTTP conformance audit (graphql-http's own suite) against a running server.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
// Exits 1 when a MUST or SHOULD audit fails; MAY-level GET audits are expected to fail:
// CareLoop refuses queries over GET on purpose.
import { auditServer } from 'graphql-http';

const DELIBERATELY_REFUSED = /GET requests|in GETs/;
const results = await auditServer({ url: process.argv[2], fetchFn: fetch });
let ok = 0, warn = 0, refused = 0, failed = 0;
for (const result of results) {
  if (result.status === 'ok') ok++;
  else if (result.name.startsWith('MAY') && DELIBERATELY_REFUSED.test(result.name)) refused++;
  else if (result.status === 'warn') { warn++; console.log('WARN ', result.name, '-', result.reason); }
  else { failed++; console.log('ERROR', result.name, '-', result.reason); }
}
console.log(JSON.stringify({ ok, warn, failed, refused_get_by_design: refused }));
process.exit(failed > 0 || warn > 0 ? 1 : 0);
