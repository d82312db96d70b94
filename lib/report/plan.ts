/** The what-if plan as text. Pure. */
import type { ClusterRemediation } from '../act/remediate';
import { describeChange } from '../notify/action-message';

const STATE: Record<string, string> = { apply: 'WILL APPLY', 'dry-run': 'DRY-RUN', blocked: 'BLOCKED' };

/** Renders every cluster's plan: each action, why, its predicted effect, and what blocks it. */
export function renderPlan(remediation: ClusterRemediation[], policyFile: string): string {
  const out: string[] = [`Remediation plan (policy ${policyFile}); nothing is changed by this command.`];
  for (const r of remediation) {
    out.push('', `Cluster ${r.cluster}: mode ${r.mode}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    if (r.planned.length === 0) {
      out.push('  no action');
      continue;
    }
    for (const a of r.planned) {
      out.push(`  ${STATE[a.state] ?? a.state}: ${describeChange(a.change)}`);
      out.push(`    why: ${a.reason}`);
      out.push(`    predicted: ${a.predicted.text}`);
      if (a.predicted.ipsFreed !== undefined && a.predicted.ipsFreed !== 0) out.push(`    addresses: ${a.predicted.ipsFreed >= 0 ? 'frees' : 'takes'} ${Math.abs(a.predicted.ipsFreed)}`);
      if (a.predicted.podHeadroomGained !== undefined) out.push(`    pods of headroom: +${a.predicted.podHeadroomGained}`);
      if (a.change.type === 'addon-env' && a.change.selfManagedCommand) out.push(`    run: ${a.change.selfManagedCommand}`);
      if (a.change.type === 'addon-env') for (const n of a.change.nodeChanges ?? []) out.push(`    nodes: ${n.nodegroup}: max pods ${n.maxPods}; ${n.note}`);
      for (const b of a.blockedBy) out.push(`    ${a.state === 'dry-run' ? 'because' : 'blocked by'}: ${b}`);
    }
  }
  return out.join('\n') + '\n';
}
