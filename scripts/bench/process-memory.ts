/**
 * The bench children's memory probes: a full garbage collection (node --expose-gc), and the
 * kernel's peak-RSS mark of this process, reset and read (Linux /proc; elsewhere maxRSS).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Two full collections (the second frees what the first's finalisers released). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  g();
  g();
}

/** Resets the kernel's peak-RSS mark of this process to its current RSS (Linux, clear_refs 5). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The peak RSS since the last reset (VmHWM), bytes; else the process's maxRSS. */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS * 1024;
}
