"""scripts/soak's driver: see the usage in scripts/soak."""

import argparse
import json
import os
import random
import sys
import time

from checks import Replay, actual_state, check_audit, check_final, check_orphans
from ledger import Ledger
from report import buckets, check_resources, error_codes, operations_table, plot
from server import Sampler, Server
from workload import KINDS, ProfileSampler, Shared, setup


def parse_args():
    p = argparse.ArgumentParser(prog="scripts/soak")
    p.add_argument("duration", type=float, help="seconds of mixed workload")
    p.add_argument("--kill-every", type=float, help="seconds between kill -9s (default 60, "
                   "or a third of the duration when shorter), ±20%% jitter")
    p.add_argument("--workers", default="iam=3,sts=2,imds=3,ec2=2,cloudtrail=1",
                   help="threads per kind")
    p.add_argument("--pace", type=float, default=0.05, help="pause after each step (s)")
    p.add_argument("--statics", type=int, default=3, help="fixed roles/profiles/instances")
    p.add_argument("--bucket", type=float, default=300, help="report bucket (s)")
    p.add_argument("--binary", required=True)
    p.add_argument("--out", required=True, help="directory for data dir, ledger, samples")
    p.add_argument("--plot", help="PNG of RSS and fds over time")
    return p.parse_args()


def main():
    args = parse_args()
    kill_every = args.kill_every or min(60.0, args.duration / 3)
    os.makedirs(args.out, exist_ok=True)
    data_dir = os.path.join(args.out, "data")
    server = Server(args.binary, data_dir, os.path.join(args.out, "server.log"))
    began = time.monotonic()
    server.start()
    sampler = Sampler(server, os.path.join(args.out, "samples.csv"), began)
    sampler.start()
    ledger = Ledger(os.path.join(args.out, "ledger.jsonl"))
    shared = Shared(ledger, server.endpoint, server.imds_port, args.pace)
    setup(shared, args.statics)
    threads = [ProfileSampler(shared, 0)]
    for spec in args.workers.split(","):
        kind, n = spec.split("=")
        threads += [KINDS[kind](shared, i) for i in range(int(n))]
    for t in threads:
        t.start()
    print(f"soak: {len(threads)} workers against {server.endpoint} (imds port "
          f"{server.imds_port}), {args.duration:.0f} s, kill -9 every ~{kill_every:.0f} s; "
          f"output in {args.out}", flush=True)

    rng = random.Random(1)
    kills = []
    end = began + args.duration
    while True:
        next_kill = time.monotonic() + kill_every * rng.uniform(0.8, 1.2)
        if next_kill >= end:
            break
        time.sleep(next_kill - time.monotonic())
        kills.append(time.monotonic() - began)
        server.restart()
        print(f"soak: {time.monotonic() - began:6.0f} s  kill -9 #{len(kills)}, back in "
              f"{server.start_seconds[-1]:.2f} s, {len(ledger.entries)} calls so far", flush=True)
    time.sleep(max(0.0, end - time.monotonic()))
    shared.stopping.set()
    for t in threads:
        t.join(timeout=60)
    workload_seconds = time.monotonic() - began
    # The last kill lands on a quiet server: what was acknowledged must survive it too.
    kills.append(time.monotonic() - began)
    server.restart()
    ledger.close()
    print(f"soak: workload over after {workload_seconds:.0f} s; final kill -9 and restart; "
          "checking", flush=True)

    results = []
    replay = Replay()
    for entry in ledger.entries:
        replay.apply(entry)
    state, roles, profiles, instances, active = actual_state(server.endpoint)
    lost = check_final(replay, state, shared.static_roles, shared.static_profiles)
    results.append(("no acknowledged write lost", not lost,
                    f"{len(replay.possible)} entities replayed; " +
                    ("; ".join(lost[:10]) if lost else "every one within its possible states")))
    over = [p["InstanceProfileName"] for p in profiles if len(p["Roles"]) > 1]
    s = shared.profile_samples
    results.append(("a profile never holds two roles",
                    not over and s["over_one_role"] == 0 and s["samples"] > 0,
                    f"{s['samples']} samples of all profiles during the run "
                    f"({s['profiles_seen']} profile readings), {s['over_one_role']} with two or "
                    f"more roles; at the end {len(profiles)} profiles, {len(over)} over one"))
    orphans, orphan_checks = check_orphans(data_dir, roles, profiles, instances, active)
    results.append(("no orphans", not orphans,
                    "; ".join(orphans[:10]) if orphans else
                    f"{len(active)} active associations, {len(instances)} instances, "
                    f"{orphan_checks} store queries: none"))
    audit = check_audit(ledger.entries, data_dir, shared.imds_keys)
    audit_ok = not audit["missing"] and not audit["without_request_id"] \
        and not audit["imds_keys_missing"]
    results.append(("an audit record for every acknowledged call", audit_ok,
                    f"{audit['acknowledged']} acknowledged calls, {len(audit['missing'])} "
                    f"request IDs missing, {audit['without_request_id']} answers without one; "
                    f"{audit['imds_keys']} instance credential sets served, "
                    f"{len(audit['imds_keys_missing'])} without their issue record; journal "
                    f"{audit['journal_lines']} lines ({audit['unreadable_lines']} unreadable)"))
    imds = shared.imds
    results.append(("IMDS serves a static instance its own role", imds["wrong_role"] == 0,
                    f"{imds['wrong_role']} credential answers for another role"))
    sampler.stop()
    resources_ok, resources_detail = check_resources(sampler.samples)
    results.append(("RSS and open fds bounded", resources_ok, resources_detail))

    summary = summarize(args, server, kills, workload_seconds, ledger.entries, shared,
                        sampler.samples, results, audit)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(summary)
    with open(os.path.join(args.out, "violations.json"), "w") as f:
        json.dump({"lost": lost, "orphans": orphans, "audit_missing": audit["missing"][:1000],
                   "imds_keys_missing": audit["imds_keys_missing"]}, f, indent=1)
    if args.plot and plot(sampler.samples, kills, args.plot):
        print(f"soak: plot in {args.plot}")
    server.stop()
    print(summary)
    return 0 if all(ok for _, ok, _ in results) else 1


def summarize(args, server, kills, workload_seconds, entries, shared, samples, results, audit):
    out = [f"Workload {workload_seconds:.0f} s; {len(kills)} kill -9 cycles (the last after "
           f"the workload stopped); {server.starts} starts, ready again in "
           f"{min(server.start_seconds):.2f}–{max(server.start_seconds):.2f} s "
           f"(median {sorted(server.start_seconds)[len(server.start_seconds) // 2]:.2f} s).", ""]
    out += operations_table(entries)
    imds = shared.imds
    out += ["", f"IMDS credential fetches (token PUT, role listing, credentials GET): "
            f"{imds['ok']} served credentials, {imds['norole']} no role (404: an instance "
            f"between profiles), {imds['other']} other answers, {imds['unack']} unanswered; "
            f"{imds['static_not_ok']} non-credential answers from the static instances"
            + (" (other answers: " + ", ".join(f"{k}: {n}" for k, n in
                                              shared.imds_other.most_common()) + ")"
               if shared.imds_other else "") + ".", ""]
    codes = error_codes(entries)
    if codes:
        out += ["Acknowledged errors: " + "; ".join(codes) + ".", ""]
    out += ["| invariant | result | detail |", "|---|---|---|"]
    out += [f"| {name} | {'PASS' if ok else 'FAIL'} | {detail} |" for name, ok, detail in results]
    out += ["", f"| minutes | RSS min–max (MiB) | open fds min–max | server starts |",
            "|---|---|---|---:|"]
    for lo, hi, rmin, rmax, fmin, fmax, starts in buckets(samples, args.bucket):
        out.append(f"| {lo / 60:.0f}–{hi / 60:.0f} | {rmin / 1024:.1f}–{rmax / 1024:.1f} | "
                   f"{fmin}–{fmax} | {starts} |")
    out += [""]
    for name, ok, _ in results:
        out.append(f"{'PASS' if ok else 'FAIL'}: {name}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
