/**
 * Architecture rules (STYLE.md "Dependencies"), checked by `npm test`:
 * no cycles; a context imports another only through its public index.ts;
 * common/ and persistence/ depend on no context; nothing depends on server/.
 */
const CONTEXTS = 'ingest|scoring|leaderboards|achievements|challenges|anti-cheat|feed|realtime|users|outbox|web';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-deep-imports-into-another-context',
      comment: "Use the other context's index.ts.",
      severity: 'error',
      from: { path: `^(${CONTEXTS}|common|persistence)/` },
      to: { path: `^(${CONTEXTS}|common|persistence)/.+`, pathNot: ['^$1/', '/index\\.ts$'] },
    },
    {
      name: 'foundations-depend-on-no-context',
      severity: 'error',
      from: { path: '^(common|persistence)/' },
      to: { path: `^(${CONTEXTS}|server)/` },
    },
    {
      name: 'nothing-depends-on-the-composition-root',
      comment: 'Tests may build the whole engine; code may not.',
      severity: 'error',
      from: { path: `^(${CONTEXTS}|common|persistence)/`, pathNot: '\\.test\\.ts$' },
      to: { path: '^server/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
