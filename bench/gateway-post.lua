-- wrk script for bench/gateway-load.sh: POST /process with the seed input
-- and the bench API key, then one summary line for the script to read:
--   WRK_JSON {"requests":...,"duration_s":...,"latency_us":{...},"errors":{...}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "bench-key-0123456789"
wrk.body = '{"data":{"type":"json","records":[{"id":1,"value":10.5},' ..
           '{"id":2,"value":20.25},{"id":3,"value":30}]},' ..
           '"notification":{"type":"EMAIL","recipient":"ops@example.com",' ..
           '"priority":"NORMAL"}}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.3f,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status))
end
