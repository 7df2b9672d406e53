"""Resource bounds and the run's summary (Markdown, for docs/RELIABILITY.md), plus a plot."""

from collections import Counter

RSS_GROWTH = 1.5   # the last window's peak RSS may be at most this times the first window's
FD_GROWTH = 1.5    # likewise open descriptors, plus FD_SLACK (counts are small and jumpy)
FD_SLACK = 16
WINDOW = 600       # seconds, or a third of the measured span when shorter


def resource_windows(samples):
    """Samples after the first restart (the warm-up: a fresh data dir, first allocations); in a
    run without kills (only the final restart), the one workload process after its first 10 s."""
    if len({s[1] for s in samples}) > 2:
        warm = [s for s in samples if s[1] >= 2]
    else:
        warm = [s for s in samples if s[1] == 1 and s[0] >= 10]
    if len(warm) < 3:
        return None
    span = warm[-1][0] - warm[0][0]
    window = min(WINDOW, span / 3)
    first = [s for s in warm if s[0] <= warm[0][0] + window]
    last = [s for s in warm if s[0] >= warm[-1][0] - window]
    return first, last, window


def check_resources(samples):
    windows = resource_windows(samples)
    if windows is None:
        return False, "too few samples"
    first, last, window = windows
    rss_first, rss_last = max(s[3] for s in first), max(s[3] for s in last)
    fd_first, fd_last = max(s[4] for s in first), max(s[4] for s in last)
    ok = rss_last <= rss_first * RSS_GROWTH and fd_last <= fd_first * FD_GROWTH + FD_SLACK
    detail = (f"window {window:.0f} s: peak RSS {rss_first / 1024:.1f} → {rss_last / 1024:.1f} MiB "
              f"(bound ×{RSS_GROWTH}), peak fds {fd_first} → {fd_last} "
              f"(bound ×{FD_GROWTH} + {FD_SLACK})")
    return ok, detail


def buckets(samples, size):
    rows = {}
    for t, start, _, rss, fds, threads in samples:
        b = int(t // size)
        r = rows.setdefault(b, [rss, rss, fds, fds, set()])
        r[0], r[1] = min(r[0], rss), max(r[1], rss)
        r[2], r[3] = min(r[2], fds), max(r[3], fds)
        r[4].add(start)
    return [(b * size, (b + 1) * size, *r[:4], len(r[4])) for b, r in sorted(rows.items())]


def operations_table(entries):
    counts = Counter()
    for e in entries:
        counts[(e["kind"], e["op"], e["outcome"])] += 1
    ops = sorted({(k, o) for k, o, _ in counts})
    lines = ["| kind | operation | acknowledged ok | acknowledged error | unacknowledged |",
             "|---|---|---:|---:|---:|"]
    for kind, op in ops:
        lines.append(f"| {kind} | {op} | {counts[(kind, op, 'ok')]} | "
                     f"{counts[(kind, op, 'err')]} | {counts[(kind, op, 'unack')]} |")
    return lines


def error_codes(entries):
    codes = Counter((e["op"], e.get("code")) for e in entries if e["outcome"] == "err")
    return [f"{op} {code}: {n}" for (op, code), n in codes.most_common()]


def plot(samples, kills, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = [s[0] / 60 for s in samples]
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 5))
    ax1.plot(t, [s[3] / 1024 for s in samples], lw=0.8)
    ax1.set_ylabel("RSS (MiB)")
    ax1.set_ylim(bottom=0)
    ax2.plot(t, [s[4] for s in samples], lw=0.8, color="tab:orange")
    ax2.set_ylabel("open fds")
    ax2.set_ylim(bottom=0)
    ax2.set_xlabel("minutes (vertical lines: kill -9 and restart)")
    for k in kills:
        for ax in (ax1, ax2):
            ax.axvline(k / 60, color="grey", lw=0.3)
    fig.suptitle("roleplane under the soak workload")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True
