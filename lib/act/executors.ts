/**
 * The executors of every action kind, which the act loop (lib/act/act.ts) is given by the
 * composition root (lib/runtime.ts). A module of their own, apart from the plan-and-act stage
 * (remediate.ts): they call the adapters (lib/aws), and what only plans (the CLI's `plan`) loads
 * no AWS SDK.
 */
import type { ActionKind } from '../plan/types';
import { addonEnvExecutor } from './execute-addon';
import { nodegroupReplacementExecutor } from './execute-nodegroup';
import { subnetReservationsExecutor } from './execute-reservations';
import { leakedEnisExecutor } from './execute-enis';
import { cniSubnetsExecutor } from './execute-subnets';
import { karpenterInstanceTypesExecutor, karpenterSubnetsExecutor } from './execute-karpenter';
import { eniConfigsExecutor } from './execute-eni-configs';
import type { ActionExecutor } from './types';

/** The executors of every action kind. */
export const EXECUTORS: Record<ActionKind, ActionExecutor> = {
  'warm-targets': addonEnvExecutor('warm-targets'),
  'prefix-delegation': addonEnvExecutor('prefix-delegation'),
  // A rollout is a nodegroup replacement with the same instance types: the same two steps.
  'prefix-rollout': nodegroupReplacementExecutor,
  'cni-subnets': cniSubnetsExecutor,
  'instance-types': nodegroupReplacementExecutor,
  'subnet-reservations': subnetReservationsExecutor,
  'leaked-enis': leakedEnisExecutor,
  'karpenter-subnets': karpenterSubnetsExecutor,
  'karpenter-instance-types': karpenterInstanceTypesExecutor,
  'eni-configs': eniConfigsExecutor,
};
