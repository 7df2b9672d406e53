-- wrk helper for large bodies: check.lua's RESULT line without a response() callback, which would
-- copy every body into Lua (1 MiB per response) and make the client the bottleneck. wrk itself
-- counts responses with status >= 400 (errors.status); bytes=… is the bytes read per response
-- (headers + body), which shows a short or empty body. The scripts pre-flight each request once
-- (mk_s3_lua.py --verify) for an exact 200 and body length.
function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50=%.2fms p90=%.2fms p99=%.2fms non2xx=%d errors=%d bytes=%.0f\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests > 0 and summary.bytes / summary.requests or 0))
end
