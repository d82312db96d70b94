/**
 * The stack's own CloudWatch alarms, named `<service>-<stage>-<suffix>` (resources/alarms.yml,
 * `AlarmName: ${self:service}-${sls:stage}-<suffix>`), and which of them the responder answers.
 * The EventBridge rule (lib/events/patterns.ts) delivers exactly the answered names, and the parser
 * checks the same lists, so that stage `prod` neither receives nor answers the alarms of a stage
 * `prod-eu`, whose names share the prefix `eks-ip-responder-prod-`.
 */

/** Every alarm name of the stack after `<service>-<stage>-`. */
export const STACK_ALARM_SUFFIXES = [
  'subnet-free-ips-low',
  'control-plane-free-ips-low',
  'sampling-failures',
  'sampler-errors',
  'sampler-not-running',
  'sampler-slow',
  'responder-errors',
  'responder-dead-letters',
  'eni-quota-high',
  'network-address-usage-high',
  // Pods failing IP assignment (PodsFailingIpAssignment, from the clusters' Kubernetes events):
  // answered like the subnet alarm, with a targeted cycle of the contributor cluster.
  'pods-failing-ip-assignment',
] as const;

export type StackAlarmSuffix = (typeof STACK_ALARM_SUFFIXES)[number];

/**
 * This stack's alarms that a responder cycle cannot help, with the reason: answered by their SNS
 * message alone. The rule does not deliver them; should one arrive all the same, the parser
 * ignores it before any claim. A slow sampler still completes its cycles, and a cycle of every
 * cluster would add to the load it reports. A sampler that failed (sampler-errors, a timeout
 * included) is answered: the cycle diagnoses and notifies in its place.
 */
export const NOT_ANSWERED: Readonly<Partial<Record<StackAlarmSuffix, string>>> = {
  'sampler-slow': "it is about the sampler's duration; a cycle would add to it (raise memorySize, README Performance)",
  // Quotas no action of the responder raises; the sampler's findings name the fix.
  'eni-quota-high': 'it is an account quota: no cycle or action raises it (request an increase in Service Quotas)',
  'network-address-usage-high': "it is a VPC's Network Address Usage quota: no cycle or action raises it (request an increase, or move workloads)",
};

/** The alarms the responder answers with a cycle: every stack alarm not in {@link NOT_ANSWERED}. */
export const ANSWERED_ALARM_SUFFIXES: readonly StackAlarmSuffix[] = STACK_ALARM_SUFFIXES.filter((suffix) => NOT_ANSWERED[suffix] === undefined);
