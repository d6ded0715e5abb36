/**
 * Flywheel's experiment statistics: pure, deterministic functions (no I/O, no Math.random), safe
 * to call from Temporal workflow code.
 *
 * - distributions: normal, Student t and chi-square distribution functions and their special functions;
 * - tests: fixed-horizon tests (two proportions, Welch, Mann–Whitney, chi-square, sample-ratio mismatch);
 * - always-valid: mSPRT / normal-mixture confidence sequences for continuously monitored A/B tests,
 *   with Bonferroni/Holm for more than two arms;
 * - sequential-multinomial: anytime-valid test of counts against planned proportions (sequential SRM);
 * - judge: Kayenta-style canary metric classification and group scoring.
 *
 * Convention everywhere: effects are A − B (first argument minus second); 'greater' means A > B.
 * Note for payloads: one-sided intervals contain ±Infinity, which JSON turns into null.
 */

export * from './distributions';
export * from './tests';
export * from './always-valid';
export * from './sequential-multinomial';
export * from './judge';
