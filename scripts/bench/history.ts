/**
 * 24 h (or `hours`) of 5-minute history for every series the forecast reads, ending at `now`:
 * what a sampler that has run a day has published. The subnet's free count drifts down slowly,
 * with noise; the cluster's total likewise. Seeded: the same account gives the same history.
 */
import type { SyntheticAccount } from '../../tools/synthetic-account';

export type History = Map<string, { t: Date; value: number }[]>;

export function addHistory(account: SyntheticAccount, history: History, hours: number, now: Date): void {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const points = (hours * 3600) / 300;
  const freeOf = new Map(account.subnets.map((s) => [s.SubnetId ?? '', s.AvailableIpAddressCount ?? 0]));
  for (const c of account.clusters) {
    const name = c.name ?? '';
    let clusterNow = 0;
    for (const id of c.resourcesVpcConfig?.subnetIds ?? []) {
      const free = freeOf.get(id) ?? 0;
      clusterNow += free;
      const series: { t: Date; value: number }[] = [];
      for (let i = points; i >= 1; i--) {
        series.push({ t: new Date(now.getTime() - i * 300_000), value: Math.max(0, Math.round(free + i * 0.05 + (rnd() - 0.5) * 6)) });
      }
      history.set(`SubnetAvailableIps/${name}/${id}`, series);
    }
    const series: { t: Date; value: number }[] = [];
    for (let i = points; i >= 1; i--) {
      series.push({ t: new Date(now.getTime() - i * 300_000), value: Math.round(clusterNow + i * 2 + (rnd() - 0.5) * 40) });
    }
    history.set(`ClusterAvailableIps/${name}`, series);
  }
}
