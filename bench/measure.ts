// Running one measured child process: wall time, its own peak RSS and CPU, and what the rest of the machine
// (the brokers, everything else) did meanwhile.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these

/** utime + stime of a process in seconds, or undefined when it is gone (or /proc is unavailable). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) of a live process in KiB. */
function peakRssKb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface Watch {
  /** CPU seconds each watched process (e.g. a broker) used, and how busy the machine was, since start. */
  stop(): { cpu_s: Record<string, number | null>; machine_busy_pct: number | null };
}

/** Starts counting CPU of the named processes (by pid) and of the machine. */
export function watchCpu(pids: Record<string, number | undefined>): Watch {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid)]));
  const m0 = machineJiffies();
  return {
    stop() {
      const cpu_s: Record<string, number | null> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const a = before[k];
        const b = processCpuSeconds(pid);
        cpu_s[k] = a !== undefined && b !== undefined ? round(b - a, 2) : null;
      }
      const m1 = machineJiffies();
      const machine_busy_pct =
        m0 && m1 && m1.total > m0.total
          ? round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total), 0)
          : null;
      return { cpu_s, machine_busy_pct };
    },
  };
}

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wall_s: number;
  /** Peak RSS in MiB: getrusage in the child when it reported, else the last VmHWM sample. */
  peak_rss_mb: number | null;
  /** User + system CPU seconds of the child itself. */
  cpu_s: number | null;
  /** Peaks of the child's process.memoryUsage() parts in MiB (bench/child-usage.ts), when it reported them. */
  memory_mb?: Record<string, number>;
  /** Watched processes' CPU seconds and machine busy % over the child's lifetime. */
  others: ReturnType<Watch['stop']>;
  load_avg_1m: number;
}

export async function runMeasured(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Set as BENCH_USAGE_FILE for bench/child-usage.ts in the child. */
    usageFile?: string;
    watch?: Record<string, number | undefined>;
    onStderr?: (chunk: string) => void;
  } = {},
): Promise<Measured> {
  if (opts.usageFile) rmSync(opts.usageFile, { force: true });
  const watch = watchCpu(opts.watch ?? {});
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, ...(opts.usageFile ? { BENCH_USAGE_FILE: opts.usageFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    opts.onStderr?.(d);
  });
  let hwm: number | undefined;
  let lastCpu: number | undefined;
  const sample = () => {
    if (child.pid === undefined) return;
    hwm = peakRssKb(child.pid) ?? hwm;
    lastCpu = processCpuSeconds(child.pid) ?? lastCpu;
  };
  const timer = setInterval(sample, 100);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  clearInterval(timer);
  const wall_s = Number(process.hrtime.bigint() - t0) / 1e9;
  const others = watch.stop();
  let usage:
    | { max_rss_kb: number; user_cpu_s: number; system_cpu_s: number; peak_mb?: Record<string, number> }
    | undefined;
  if (opts.usageFile && existsSync(opts.usageFile)) {
    usage = JSON.parse(readFileSync(opts.usageFile, 'utf8'));
  }
  const rssKb = usage?.max_rss_kb ?? hwm;
  return {
    code,
    stdout,
    stderr,
    wall_s: round(wall_s, 2),
    peak_rss_mb: rssKb !== undefined ? round(rssKb / 1024, 0) : null,
    cpu_s: usage
      ? round(usage.user_cpu_s + usage.system_cpu_s, 2)
      : lastCpu !== undefined
        ? round(lastCpu, 2)
        : null,
    ...(usage?.peak_mb ? { memory_mb: usage.peak_mb } : {}),
    others,
    load_avg_1m: round(loadavg()[0]!, 2),
  };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
