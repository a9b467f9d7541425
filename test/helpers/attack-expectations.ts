import type { AttackReport } from './attack-target.js';

/**
 * The bounds every attack test holds a target to: what a replica under a 512 MiB memory limit must
 * keep through any one client. RSS may grow by at most 128 MB: bounded attacks measured +90 MB at
 * worst (four 4 MiB messages in flight per client, and V8 collecting when it pleases), unbounded
 * ones +500 MB and more, so the bound tells the two apart on a busy machine too.
 */
export function expectSurvived(report: AttackReport): void {
  expect({
    alive: report.alive,
    rssGrowthUnder128Mb: report.rssGrowthMb <= 128 ? true : `grew ${report.rssGrowthMb.toFixed(0)} MB`,
    healthWithin1s: report.healthWorstMs < 1000 ? true : `${report.healthWorstMs.toFixed(0)} ms`,
    healthFailures: report.healthFailures,
    wellBehavedWrong: report.wellBehavedWrong,
  }).toEqual({
    alive: true,
    rssGrowthUnder128Mb: true,
    healthWithin1s: true,
    healthFailures: [],
    wellBehavedWrong: [],
  });
  expect(report.wellBehavedAnswered).toBeGreaterThan(0);
}
