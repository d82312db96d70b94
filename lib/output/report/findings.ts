/**
 * The findings section of the report: one section per full subnet, not one per finding. Pure.
 *
 * Diagnose makes a subnet-exhaustion finding for a scarce subnet and one for each nodegroup whose
 * every subnet in an AZ is scarce (lib/diagnose/subnet-exhaustion.ts): with one subnet in that AZ,
 * they are the same subnet and the same fixes, said two or three times. The report merges them
 * here, in the rendering, so that the findings themselves (ids, notifications, metrics, the plan's
 * findingIds, the ledger) stay one per subject.
 */
import type { Finding } from '../../diagnose/types';
import { SEVERITY_RANK } from '../../diagnose/types';
import { CAUSE_TITLE, findingDetails } from '../notify/message';

/** Findings the report shows as one section: the first is the one whose title heads it. */
export interface FindingSection {
  severity: Finding['severity'];
  findings: Finding[];
}

/** The subnets a subnet-exhaustion finding is about, as one key; undefined for other findings. */
function subnetKey(f: Finding): string | undefined {
  if (f.kind !== 'subnet-exhaustion') return undefined;
  if (f.subject.type === 'subnet') return f.subject.id;
  const ids = f.evidence['subnetIds'];
  if (f.subject.type === 'availability-zone' && typeof ids === 'string' && ids !== '') return ids.split(',').sort().join(',');
  return undefined;
}

/**
 * Groups a cluster's findings: subnet-exhaustion findings about the same subnets (the subnet's own
 * and its nodegroups' AZ findings) whose first fix is the same become one section, headed by the
 * subnet's finding; every other finding is a section of its own. In the findings' order.
 */
export function groupFindings(findings: readonly Finding[]): FindingSection[] {
  const sections: FindingSection[] = [];
  const byKey = new Map<string, FindingSection>();
  for (const f of findings) {
    const key = subnetKey(f);
    const into = key === undefined ? undefined : byKey.get(`${key}\n${f.fixes[0] ?? ''}`);
    if (into) {
      into.findings.push(f);
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[into.severity]) into.severity = f.severity;
      continue;
    }
    const section: FindingSection = { severity: f.severity, findings: [f] };
    sections.push(section);
    if (key !== undefined) byKey.set(`${key}\n${f.fixes[0] ?? ''}`, section);
  }
  for (const s of sections) {
    // The subnet's own finding heads the section: it has the subnet's figures.
    s.findings.sort((a, b) => Number(b.subject.type === 'subnet') - Number(a.subject.type === 'subnet'));
  }
  return sections;
}

/**
 * The lines of one section, unindented and unwrapped: a single finding in the notifications' words
 * (lib/output/notify/message.ts `findingDetails`); a merged one with the head's evidence, then each
 * nodegroup's title and evidence, then the fixes they share and those of one nodegroup only.
 */
export function sectionLines(section: FindingSection): string[] {
  const [head, ...rest] = section.findings;
  if (!head) return [];
  if (rest.length === 0) return [`${head.severity.toUpperCase()}: ${head.title}`, ...findingDetails(head).map((l) => (l === '' ? '' : `  ${l}`))];
  const lines = [`${section.severity.toUpperCase()}: ${head.title}`];
  lines.push(`  Cause: ${CAUSE_TITLE[head.kind]}`);
  const nodegroups = section.findings.flatMap((f) => (typeof f.evidence['nodegroup'] === 'string' ? [f.evidence['nodegroup']] : []));
  const az = head.subject.availabilityZone;
  if (nodegroups.length > 0) {
    lines.push(`  Nodegroups with no other subnet${az ? ` in ${az}` : ''}: ${nodegroups.join(', ')}`);
  }
  if (head.evidenceText.length > 0) {
    lines.push('', '  Evidence:');
    for (const e of head.evidenceText) lines.push(`  - ${e}`);
  }
  for (const f of rest) {
    // A nodegroup's own finding is headed by its name (its title repeats the subnet's figures).
    const ng = f.evidence['nodegroup'];
    const lower = f.severity !== section.severity ? ` (${f.severity})` : '';
    lines.push('', `  ${typeof ng === 'string' && head.subject.type === 'subnet' ? `Nodegroup ${ng}` : f.title}${lower}:`);
    for (const e of f.evidenceText) lines.push(`  - ${e}`);
  }
  const forecasts = [...new Set(section.findings.flatMap((f) => (f.forecast ? [f.forecast.summary] : [])))];
  for (const summary of forecasts) lines.push('', `  Forecast: ${summary}`);
  // The fixes every finding of the section gives, in the head's order, then each one's own.
  const shared = head.fixes.filter((fix) => section.findings.every((f) => f.fixes.includes(fix)));
  const own = section.findings.flatMap((f) => f.fixes.filter((fix) => !shared.includes(fix)));
  const [first, ...then] = [...shared, ...new Set(own)];
  if (first) lines.push('', `  First fix to try: ${first}`);
  if (then.length > 0) {
    lines.push('  Then:');
    for (const fix of then) lines.push(`  - ${fix}`);
  }
  return lines;
}
