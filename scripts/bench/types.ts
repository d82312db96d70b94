/** What scripts/bench.ts and its child processes exchange. */

/** One size to run, passed to scripts/bench/cycle-child.ts as JSON. */
export interface ChildInput {
  nodes: number;
  clusters: number;
  subnetsPerCluster: number;
  enisPerNode: number;
  instanceTypes: string[];
  /** The dynalite (in the parent process) the ledger tables are created in. */
  endpoint: string;
  /** The policy file given to the functions as POLICY_JSON. */
  policyFile: string;
  warmups: number;
  runs: number;
  /** Hours of metric history the emulated CloudWatch answers (0: none, the first cycle ever). */
  historyHours: number;
  /** Further measured runs without any history (the first cycle of a new stack: no forecast work). */
  noHistoryRuns: number;
}

/** The figures of one measured cycle. */
export interface RunFigures {
  /** process.cpuUsage user + system around the handler call. */
  cpuMs: number;
  wallMs: number;
  /** RSS after GC just before the cycle: runtime, code and the synthetic account (whose objects the emulator answers with). */
  rssBefore: number;
  /** Peak RSS during the cycle (VmHWM reset before it) or, where that is impossible, of the process. */
  peakRss: number;
  peakIsCycleOnly: boolean;
  heapBefore: number;
  heapAfter: number;
  /** Emulated AWS calls by operation. */
  awsCalls: Record<string, number>;
  readCalls: number;
  dynamoCalls: Record<string, number>;
  putMetricDataCalls: number;
  metricsPublished: number;
  findings: number;
  notified: number;
  clustersSampled: number;
  clustersFailed: number;
  clustersIncomplete: number;
  problems: string[];
}

export interface ChildResult {
  nodes: number;
  shape: { clusters: number; subnets: number; enis: number; instances: number; instanceTypes: number; nodegroups: number };
  generateMs: number;
  runs: RunFigures[];
  runsNoHistory: RunFigures[];
  /** Heap the cycle's own data holds after a full GC (inventory, usage, findings), MB. */
  liveMB: number;
  /** Heap the generated account holds after GC (MB): what the read answers themselves occupy. */
  accountHeapMB: number;
  /** JSON.parse of every read answer of one cycle, as JSON text: 5 timings (CPU ms). */
  floor: { pages: number; bytes: number; parseMs: number[]; parsed: number };
  maxRss: number;
}
