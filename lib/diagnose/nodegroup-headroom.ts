/**
 * nodegroup-headroom: a managed nodegroup whose configured max size, or whose update in progress,
 * would not find the free addresses its new nodes need (the headroom preflight,
 * headroom-preflight.ts). An update in progress that does not fit is critical; a max size that
 * does not fit is a warning. Nothing is said when a figure rests on a read that failed.
 */
import type { InstanceTypeInfo } from '../inventory/types';
import { finding, list, n, type ClusterContext } from './context';
import { preflightChecks, type PreflightCheck } from './headroom-preflight';
import type { Finding } from './types';

/** Nodegroup status while any update runs (EKS API reference, Nodegroup `status`). */
const UPDATING = 'UPDATING';

function shortText(c: PreflightCheck): string[] {
  return c.places
    .filter((p) => !p.fits)
    .map(
      (p) =>
        `${p.availabilityZone}: ${n(p.nodes)} new node(s) × ${n(c.ipsPerNode ?? 0)} IPs = ${n(p.needIps)} needed, ${p.subnetId} has ${n(p.free)} free` +
        (p.needBlocks !== undefined ? ` and ${n(p.freeBlocks ?? 0)} free /28 blocks (${n(p.needBlocks)} needed)` : '') +
        (p.subnetIds.length > 1 ? ` (the least roomy of ${p.subnetIds.join(', ')})` : ''),
    );
}

export function diagnoseNodegroupHeadroom(ctx: ClusterContext, instanceTypes: Record<string, InstanceTypeInfo>): Finding[] {
  const checks = preflightChecks({ usage: ctx.usage, inventory: ctx.inventory, instanceTypes });
  const findings: Finding[] = [];
  for (const ng of ctx.inventory.nodegroups) {
    const name = ng.nodegroupName ?? '';
    const mine = checks.filter((c) => c.nodegroup === name);
    const update = mine.find((c) => c.check === 'rolling-update');
    const scale = mine.find((c) => c.check === 'scale-to-max');
    const updating = ng.status === UPDATING && update?.verdict === 'does-not-fit' ? update : undefined;
    const maxShort = scale?.verdict === 'does-not-fit' ? scale : undefined;
    if (!updating && !maxShort) continue;
    const shown = updating ?? maxShort;
    if (!shown) continue;
    const title = updating
      ? `Nodegroup ${name} is UPDATING: its ${n(updating.newNodes)} surge nodes would not fit in ${list(updating.places.filter((p) => !p.fits).map((p) => p.availabilityZone))}`
      : `Nodegroup ${name}: scaling to its max size (${n(ng.scalingConfig?.maxSize ?? 0)}) would not fit in ${list((maxShort?.places ?? []).filter((p) => !p.fits).map((p) => p.availabilityZone))}`;
    const evidenceText = [
      ...(updating ? [updating.summary, ...shortText(updating)] : []),
      ...(maxShort ? [maxShort.summary, ...shortText(maxShort)] : []),
      ...shown.basis,
    ];
    const fixes = [
      ...(updating
        ? [
            `Lower the surge: aws eks update-nodegroup-config --cluster-name ${ctx.usage.name} --nodegroup-name ${name} --update-config maxUnavailable=1 (the surge is then 2 per AZ), or free addresses in the short subnets before the update's scale-up phase times out (NodeCreationFailure).`,
          ]
        : []),
      ...(maxShort
        ? [
            `Lower the max size to what fits (aws eks update-nodegroup-config --cluster-name ${ctx.usage.name} --nodegroup-name ${name} --scaling-config maxSize=…), or make room: shrink warm pools (WARM_IP_TARGET / MINIMUM_IP_TARGET), add subnets for the CNI (kubernetes.io/role/cni), or prefix delegation.`,
          ]
        : []),
      'Run `eks-ip-responder preflight --cluster ' + ctx.usage.name + ' --nodegroup ' + name + '` before the next update or scale-out.',
    ];
    findings.push(
      finding(ctx, {
        kind: 'nodegroup-headroom',
        severity: updating ? 'critical' : 'warning',
        subject: { type: 'nodegroup', id: name },
        title,
        evidence: {
          nodegroupStatus: ng.status ?? 'unknown',
          ...(update ? { surgeNodes: update.newNodes, rollingUpdate: update.verdict } : {}),
          ...(scale ? { maxSize: ng.scalingConfig?.maxSize ?? 0, scaleOutNodes: scale.newNodes, scaleToMax: scale.verdict } : {}),
          ipsPerNewNode: shown.ipsPerNode ?? 0,
          shortAzs: shown.places.filter((p) => !p.fits).length,
        },
        evidenceText,
        fixes,
      }),
    );
  }
  return findings;
}
