// Memory and CPU of one target process, read from /proc (Linux only, like the daemons under test).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set now and its high-water mark, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** User + system CPU seconds the process (all its threads) has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/**
 * Peak RSS of a process from a starting point on. Resetting VmHWM (clear_refs 5, Linux ≥ 4.0) excludes the
 * daemon's start-up peak; sampling VmRSS covers kernels or permissions where the reset is refused.
 */
export class PeakRssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  private hwmReset = false;
  baseline = 0;

  constructor(readonly pid: number, private readonly everyMs = 50) {}

  /** Takes the baseline (current RSS) and starts following the peak. */
  start(): void {
    this.baseline = memoryOf(this.pid).rss;
    this.peak = this.baseline;
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** Stops sampling; the peak in bytes since start(). */
  stop(): { peak: number; baseline: number; hwmReset: boolean } {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return { peak: this.peak, baseline: this.baseline, hwmReset: this.hwmReset };
  }

  private sample(): void {
    try {
      const m = memoryOf(this.pid);
      this.peak = Math.max(this.peak, m.rss, this.hwmReset ? m.hwm : 0);
    } catch {
      // The process is gone; the peak so far stands.
    }
  }
}
