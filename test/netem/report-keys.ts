/**
 * The keys the runner's JSON report promises, sorted: the figures (the
 * same for wavemq and for the baseline) and the whole report.
 */
export const FIGURE_KEYS = [
  'delivered',
  'drainMs',
  'dropped',
  'duplicated',
  'p50Ms',
  'p99Ms',
  'published',
  'reordered',
  'unexplained',
];

/** Every top-level key of the JSON report, sorted. */
export const REPORT_KEYS = [...FIGURE_KEYS, 'baseline', 'profile'].sort();
