-- wrk's summary, one line the driver reads (keelbench.report.parse_wrk): requests, seconds, p50 and p99 in
-- microseconds, non-2xx responses, socket errors. wrk is configured in Lua; this is its only script.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %.3f %d %d %d %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50.0), latency:percentile(99.0), e.status, e.connect + e.read + e.write + e.timeout))
end
