/**
 * The VPC CNI settings that decide how many addresses a node holds, read from the managed
 * add-on's configurationValues (`{"env": {"WARM_IP_TARGET": "5", ...}}`). Pure.
 *
 * Defaults are the VPC CNI's own (amazon-vpc-cni-k8s README, "ENI Allocation" and the env
 * var reference): WARM_ENI_TARGET=1, WARM_PREFIX_TARGET=1 in prefix mode, prefix delegation
 * and custom networking off. For a self-managed aws-node the AWS API cannot see the
 * daemonset's env, so every value is unknown (`source: 'unknown'`).
 */
import type { CniInstall } from '../inventory/types';

export interface CniSettings {
  /** Where the values come from. 'defaults' means the managed add-on with no env overrides. */
  source: 'add-on' | 'defaults' | 'unknown';
  addonVersion?: string;
  prefixDelegation?: boolean;
  customNetworking?: boolean;
  warmEniTarget?: number;
  warmIpTarget?: number;
  minimumIpTarget?: number;
  warmPrefixTarget?: number;
  /** Values present in the document that are not what the CNI accepts, named. */
  invalid: string[];
}

function envOf(values: Record<string, unknown>): Record<string, unknown> {
  const env = values['env'];
  return env && typeof env === 'object' && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
}

/** Reads the CNI settings of a cluster's VPC CNI installation. */
export function readCniSettings(cni: CniInstall): CniSettings {
  if (cni.kind !== 'managed') return { source: 'unknown', invalid: [] };
  const env = envOf(cni.configurationValues);
  const invalid: string[] = [];
  const bool = (key: string): boolean | undefined => {
    const v = env[key];
    if (v === undefined) return undefined;
    if (v === 'true' || v === true) return true;
    if (v === 'false' || v === false) return false;
    invalid.push(`${key}=${JSON.stringify(v)} (expected "true" or "false")`);
    return undefined;
  };
  const int = (key: string): number | undefined => {
    const v = env[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0) {
      invalid.push(`${key}=${JSON.stringify(v)} (expected a whole number as a string)`);
      return undefined;
    }
    return n;
  };
  const settings: CniSettings = {
    source: Object.keys(env).length > 0 ? 'add-on' : 'defaults',
    addonVersion: cni.addon.addonVersion,
    prefixDelegation: bool('ENABLE_PREFIX_DELEGATION') ?? false,
    customNetworking: bool('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG') ?? false,
    warmEniTarget: int('WARM_ENI_TARGET'),
    warmIpTarget: int('WARM_IP_TARGET'),
    minimumIpTarget: int('MINIMUM_IP_TARGET'),
    warmPrefixTarget: int('WARM_PREFIX_TARGET'),
    invalid,
  };
  // WARM_ENI_TARGET defaults to 1, but WARM_IP_TARGET / MINIMUM_IP_TARGET override it when set
  // (amazon-vpc-cni-k8s docs/eni-and-ip-target.md), and in prefix mode they override
  // WARM_PREFIX_TARGET (docs/prefix-and-ip-target.md). ipamd counts them as set only when non-zero:
  // pkg/ipamd/ipamd.go `warmIPTargetsDefined` compares with noWarmIPTarget = noMinimumIPTarget = 0.
  if (settings.warmEniTarget === undefined && !ipTargetsSet(settings)) {
    settings.warmEniTarget = 1;
  }
  if (settings.prefixDelegation && settings.warmPrefixTarget === undefined && !ipTargetsSet(settings)) {
    settings.warmPrefixTarget = 1;
  }
  return settings;
}

/**
 * Whether WARM_IP_TARGET or MINIMUM_IP_TARGET is in force: ipamd counts them as set only when
 * non-zero (pkg/ipamd/ipamd.go `warmIPTargetsDefined`).
 */
export function ipTargetsSet(s: { warmIpTarget?: number | undefined; minimumIpTarget?: number | undefined }): boolean {
  return (s.warmIpTarget ?? 0) > 0 || (s.minimumIpTarget ?? 0) > 0;
}
