// Preloaded into each measured kafka-backup child (`node --import ./bench/child-usage.ts bin/kafka-backup.ts …`):
// at exit it writes the process's own peak RSS and CPU time (getrusage) to $BENCH_USAGE_FILE, so the figures are
// the child's alone, exact, and need no sampling. It also samples process.memoryUsage() every 500 ms (every 100 ms
// it was 1.8% of a restore's CPU) and reports
// each part's peak (V8 heap, external memory and ArrayBuffers: Buffers), to tell what the resident memory is.
import { writeFileSync } from 'node:fs';

const out = process.env['BENCH_USAGE_FILE'];
if (out) {
  const peak = { rss: 0, heap_total: 0, heap_used: 0, external: 0, array_buffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap_total = Math.max(peak.heap_total, m.heapTotal);
    peak.heap_used = Math.max(peak.heap_used, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.array_buffers = Math.max(peak.array_buffers, m.arrayBuffers);
  };
  const trace = process.env['BENCH_MEM_TRACE'] === '1';
  setInterval(() => {
    sample();
    if (trace) {
      const m = process.memoryUsage();
      const f = (n: number) => String(Math.round(n / 1024 / 1024)).padStart(4);
      process.stderr.write(
        `[mem] ${process.uptime().toFixed(1).padStart(5)}s rss ${f(m.rss)} heap ${f(m.heapUsed)}/${f(m.heapTotal)} ext ${f(m.external)} ab ${f(m.arrayBuffers)}\n`,
      );
    }
  }, 500).unref();
  process.on('exit', (code) => {
    sample();
    const u = process.resourceUsage();
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    writeFileSync(
      out,
      JSON.stringify({
        code,
        max_rss_kb: u.maxRSS,
        user_cpu_s: u.userCPUTime / 1e6,
        system_cpu_s: u.systemCPUTime / 1e6,
        uptime_s: process.uptime(),
        peak_mb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, mb(v)])),
      }),
    );
  });
}
