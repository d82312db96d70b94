/**
 * Executor of the eni-configs action (custom networking), two steps:
 * 1. the ENIConfigs: GET each; the same spec is nothing to do, another spec is never overwritten
 *    (failed); the missing ones by server-side apply, a dry run of each first, announced before;
 * 2. the CNI env (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, ENI_CONFIG_LABEL_DEF): the add-on executor's
 *    UpdateAddon, or the aws-node executor's server-side apply for a self-managed install.
 * `follow` checks both: the ENIConfigs still as applied, then the env step's update or rollout.
 * Design: docs/remediation.md#custom-networking-eniconfigs
 */
import type { KubeApi, KubeObjectRef } from '../inventory/kube-types';
import { clientRequestTokenFor } from '../keys';
import type { EniConfigsChange, PlannedAction } from '../plan/types';
import { followAddonEnv, startAddonEnv } from './execute-addon';
import { followAwsNodeEnv, KUBE_APPLY_OPERATION, runAwsNodeEnv } from './execute-aws-node';
import { isTransientKubeError, kubeErrorText, openKube } from './kube-write';
import type { ActionExecutor, ActionOutcome, ActionRecord, ExecuteDeps } from './types';
import { intendWrite } from './write-intent';

/** Step 1's name in outcomes and intents. */
export const ENI_CONFIGS_STEP = 'apply-eniconfigs';

/** An ENIConfig (crd.k8s.amazonaws.com/v1alpha1, cluster-scoped): aws/amazon-vpc-cni-k8s charts/aws-vpc-cni/crds/customresourcedefinition.yaml. */
export function eniConfigRef(name: string): KubeObjectRef {
  return { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', plural: 'eniconfigs', name };
}

function eniChangeOf(change: PlannedAction['change'], actionId: string): EniConfigsChange {
  if (change.type !== 'eni-configs') throw new Error(`action ${actionId}: the eni-configs executor takes an eni-configs change, not ${change.type}`);
  return change;
}

const asRecord = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** An ENIConfig's spec as read. */
function specOf(obj: Record<string, unknown>): { subnet?: string; securityGroups: string[] } {
  const spec = asRecord(obj['spec']);
  const sgs = Array.isArray(spec['securityGroups']) ? spec['securityGroups'].filter((x): x is string => typeof x === 'string') : [];
  return { ...(typeof spec['subnet'] === 'string' ? { subnet: spec['subnet'] } : {}), securityGroups: sgs };
}

const same = (a: { subnet?: string; securityGroups: string[] }, b: { subnet: string; securityGroups: string[] }): boolean =>
  a.subnet === b.subnet && [...a.securityGroups].sort().join() === [...b.securityGroups].sort().join();

type Wanted = EniConfigsChange['eniConfigs'][number];

/** GET each ENIConfig: the ones to apply, or a failed outcome (a read error, another spec). */
async function compare(api: KubeApi, actionId: string, wanted: Wanted[], afterWrite: boolean): Promise<{ missing: Wanted[] } | ActionOutcome> {
  const missing: Wanted[] = [];
  for (const w of wanted) {
    const ref = eniConfigRef(w.name);
    let obj;
    try {
      obj = await api.get(ref);
    } catch (err) {
      return { actionId, status: 'failed', step: ENI_CONFIGS_STEP, retryable: afterWrite || isTransientKubeError(err), detail: kubeErrorText(ref, 'reading', err) };
    }
    if (!obj) {
      missing.push(w);
      continue;
    }
    const spec = specOf(obj);
    if (!same(spec, w)) {
      return {
        actionId,
        status: 'failed',
        step: ENI_CONFIGS_STEP,
        detail: `ENIConfig ${w.name} exists with subnet ${spec.subnet ?? '(none)'} and security groups ${spec.securityGroups.join(', ') || '(none)'}, not ${w.subnet} (${w.securityGroups.join(', ')}): an ENIConfig this action did not make as planned is never overwritten.`,
      };
    }
  }
  return { missing };
}

const isOutcome = (x: object): x is ActionOutcome => 'status' in x;

/** The env step, through the add-on or aws-node, its detail prefixed with what step 1 did. */
async function envStep(action: Pick<PlannedAction, 'id' | 'cluster'>, change: EniConfigsChange, deps: ExecuteDeps, prefix: string, resend: boolean): Promise<ActionOutcome> {
  const sub = { id: action.id, cluster: action.cluster, change: change.env };
  const out = change.env.target === 'aws-node' ? await runAwsNodeEnv(sub, deps, resend) : await startAddonEnv(sub, deps, resend);
  // Step 2 could not begin (an add-on update or an aws-node rollout in flight): the change is
  // half made, so it stays in progress (the lock kept) and the next cycle tries step 2 again.
  if (out.status === 'skipped') return { ...out, status: 'in-progress', detail: `${prefix} ${out.detail} The env step is tried again in the next cycle.` };
  return { ...out, detail: `${prefix} ${out.detail}` };
}

/** Step 1 (only what is missing), then step 2. `resendEnv`: step 2's write was announced and its answer not recorded. */
async function run(action: Pick<PlannedAction, 'id' | 'cluster' | 'change'>, deps: ExecuteDeps, resendEnv = false): Promise<ActionOutcome> {
  const change = eniChangeOf(action.change, action.id);
  let api: KubeApi;
  try {
    api = await openKube(deps, action.cluster);
  } catch (err) {
    return { actionId: action.id, status: 'failed', step: ENI_CONFIGS_STEP, retryable: true, detail: `cannot open the Kubernetes API of ${action.cluster} for its ENIConfigs: ${err instanceof Error ? err.message : String(err)}` };
  }
  const found = await compare(api, action.id, change.eniConfigs, false);
  if (isOutcome(found)) return found;
  const names = change.eniConfigs.map((w) => w.name).join(', ');
  if (found.missing.length === 0) return envStep(action, change, deps, `ENIConfigs ${names} in place.`, resendEnv);

  const bodies = found.missing.map((w) => ({ ref: eniConfigRef(w.name), body: { spec: { subnet: w.subnet, securityGroups: w.securityGroups } } }));
  // Dry runs first: validation, admission and ownership checked for every object before any is written.
  for (const b of bodies) {
    try {
      await api.apply(b.ref, b.body, { dryRun: true });
    } catch (err) {
      return { actionId: action.id, status: 'failed', step: ENI_CONFIGS_STEP, retryable: isTransientKubeError(err), detail: kubeErrorText(b.ref, 'dry-run apply of', err) };
    }
  }
  // Write-ahead; server-side apply of the same spec is idempotent, and a re-run GETs first.
  await intendWrite(
    deps,
    { step: ENI_CONFIGS_STEP, operation: KUBE_APPLY_OPERATION, target: `ENIConfig ${found.missing.map((w) => w.name).join(', ')} of ${action.cluster}` },
    clientRequestTokenFor(action.id, ENI_CONFIGS_STEP),
  );
  for (const b of bodies) {
    try {
      await api.apply(b.ref, b.body);
    } catch (err) {
      return { actionId: action.id, status: 'failed', step: ENI_CONFIGS_STEP, retryable: isTransientKubeError(err), detail: kubeErrorText(b.ref, 'apply of', err) };
    }
  }
  return envStep(action, change, deps, `ENIConfigs ${found.missing.map((w) => `${w.name} (${w.subnet})`).join(', ')} applied.`, false);
}

export const eniConfigsExecutor: ActionExecutor = {
  kind: 'eni-configs',
  start: (action, deps) => run(action, deps),

  async follow(record: ActionRecord, deps: ExecuteDeps): Promise<ActionOutcome> {
    const change = eniChangeOf(record.change, record.actionId);
    const envOperation = change.env.target === 'aws-node' ? KUBE_APPLY_OPERATION : 'eks:UpdateAddon';
    const envStepName = change.env.target === 'aws-node' ? 'apply-aws-node' : 'update-addon';
    if (!record.reference) {
      // Stopped before step 2's answer was recorded: run again (step 1 GETs first and finds its
      // ENIConfigs); step 2 is resent when its write was announced.
      const announced = record.intent?.operation === envOperation && record.intent.step === envStepName;
      return run({ id: record.actionId, cluster: record.cluster, change }, deps, announced);
    }
    // Step 2 was sent: the ENIConfigs must still be as applied, then its update or rollout is followed.
    let api: KubeApi;
    try {
      api = await openKube(deps, record.cluster);
    } catch (err) {
      return { actionId: record.actionId, status: 'failed', step: envStepName, retryable: true, detail: `cannot open the Kubernetes API of ${record.cluster} for its ENIConfigs: ${err instanceof Error ? err.message : String(err)}` };
    }
    const found = await compare(api, record.actionId, change.eniConfigs, true);
    if (isOutcome(found)) return found;
    if (found.missing.length > 0) {
      return { actionId: record.actionId, status: 'failed', step: ENI_CONFIGS_STEP, detail: `ENIConfig ${found.missing.map((w) => w.name).join(', ')} no longer exists: deleted since it was applied; new nodes there would find none.` };
    }
    const sub = { ...record, change: change.env };
    const out = change.env.target === 'aws-node' ? await followAwsNodeEnv(sub, deps) : await followAddonEnv(sub, deps);
    return { ...out, detail: `ENIConfigs ${change.eniConfigs.map((w) => w.name).join(', ')} in place. ${out.detail}` };
  },
};
