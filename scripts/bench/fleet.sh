#!/usr/bin/env bash
# Writes as the fleet grows: the latency of RunInstances (which returns only once the metadata
# service serves the new instance) and the server CPU per IAM write (which the metadata index
# follows), at 0, 1,000, 5,000 and 10,000 running instances. Flat is the goal.
# Usage: scripts/bench/fleet.sh   (ROLEPLANE_BIN to measure another build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install -q boto3
source "$ROOT/scripts/bench/lib.sh"
# Host mode: one shared metadata listener, so 10,000 instances need no socket each.
start_roleplane --imds-listen 127.0.0.1:0
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1 python3 - "$PORT" "$RP" <<'PY'
import os, statistics, sys, time
import boto3
port, pid = sys.argv[1], int(sys.argv[2])
url = "http://127.0.0.1:" + port
ec2, iam = boto3.client("ec2", endpoint_url=url), boto3.client("iam", endpoint_url=url)
TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
tick = os.sysconf("SC_CLK_TCK")
def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def run(n):
    ec2.run_instances(ImageId="ami-0abcdef1234567890", InstanceType="t3.micro", MinCount=n, MaxCount=n)
total, roles = 0, 0
for target in [0, 1000, 5000, 10000]:
    while total < target:
        n = min(500, target - total); run(n); total += n
    times = []
    for _ in range(20):
        start = time.perf_counter(); run(1); times.append((time.perf_counter() - start) * 1000)
    total += 20
    time.sleep(1)
    before = cpu_seconds()
    for _ in range(200):
        iam.create_role(RoleName=f"r{roles}", AssumeRolePolicyDocument=TRUST); roles += 1
    time.sleep(0.5)  # the metadata index follows IAM writes within 200 ms
    per_write = 1000 * (cpu_seconds() - before) / 200
    times.sort()
    print(f"{total:>6} instances: RunInstances(1) p50 {statistics.median(times):6.1f} ms, "
          f"max {times[-1]:6.1f} ms; server CPU per CreateRole {per_write:5.1f} ms")
PY
