/**
 * The words of a forecast: numbers, rates, durations and steps as its summary spells them
 * ("runs out in about 9 h (−12 IPs/h over the last 24 h)").
 */

/** A level shift taken as an event: when (epoch milliseconds) and by how much. */
export interface Step {
  ms: number;
  change: number;
}

export function fmtNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 10 || Number.isInteger(v)) return String(Math.round(v));
  return String(Number(v.toPrecision(2)));
}

/** "−12", "+3", "−0.4": the sign spelled out, with a real minus sign. */
export function fmtSlope(v: number): string {
  return `${v < 0 ? '\u2212' : '+'}${fmtNumber(Math.abs(v))}`;
}

export function fmtDuration(h: number): string {
  return h >= 48 ? `${fmtNumber(h / 24)} days` : `${fmtNumber(h)} h`;
}

export function fmtEta(h: number): string {
  if (h < 1) return 'less than an hour';
  return `about ${h >= 48 ? `${Math.round(h / 24)} days` : `${Math.round(h)} h`}`;
}

export function stepText(step: Step): string {
  const when = new Date(step.ms).toISOString().slice(0, 16).replace('T', ' ');
  return `free addresses ${step.change < 0 ? 'fell' : 'rose'} by ${fmtNumber(Math.abs(step.change))} in one step at ${when} UTC`;
}
