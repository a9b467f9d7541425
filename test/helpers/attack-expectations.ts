import type { AttackReport } from './attack-target.js';

/** The bounds every attack test holds a target to: what a replica under a 512 MiB memory limit must keep through any one client. */
export function expectSurvived(report: AttackReport): void {
  expect({
    alive: report.alive,
    rssGrowthUnder64Mb: report.rssGrowthMb <= 64 ? true : `grew ${report.rssGrowthMb.toFixed(0)} MB`,
    healthWithin1s: report.healthWorstMs < 1000 ? true : `${report.healthWorstMs.toFixed(0)} ms`,
    healthFailures: report.healthFailures,
    wellBehavedWrong: report.wellBehavedWrong,
  }).toEqual({ alive: true, rssGrowthUnder64Mb: true, healthWithin1s: true, healthFailures: [], wellBehavedWrong: [] });
  expect(report.wellBehavedAnswered).toBeGreaterThan(0);
}
