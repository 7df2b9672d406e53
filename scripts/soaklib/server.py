"""The server under test: started on one data dir, killed with SIGKILL and started again on the
same addresses, its RSS and open descriptors sampled every second into a CSV."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

ADMIN_KEY = "AKIASOAKADMIN0000001"
ADMIN_SECRET = "soak/secret/soak/secret/soak/secret/0000"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data_dir, log_path):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.api_port = free_port()
        self.imds_port = free_port()
        self.proc = None
        self.starts = 0
        self.start_seconds = []  # spawn to ready, per start
        self.lock = threading.Lock()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pid(self):
        proc = self.proc
        return proc.pid if proc and proc.poll() is None else None

    def start(self):
        endpoints = os.path.join(self.data_dir, "endpoints.json")
        if os.path.exists(endpoints):
            os.remove(endpoints)  # written again once the new process serves
        env = dict(os.environ, ROLEPLANE_ADMIN_ACCESS_KEY_ID=ADMIN_KEY,
                   ROLEPLANE_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
                   ROLEPLANE_LOG=os.environ.get("ROLEPLANE_LOG", "warn"))
        began = time.monotonic()
        with open(self.log_path, "a") as log:
            log.write(f"--- start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n")
            log.flush()
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--data-dir", self.data_dir,
                 "--api-addr", f"127.0.0.1:{self.api_port}", "--imds-port", str(self.imds_port),
                 "--audit-segment-mib", "16"],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while not os.path.exists(endpoints):
            if self.proc.poll() is not None:
                raise RuntimeError(f"roleplane exited with {self.proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"roleplane not ready after 60 s; see {self.log_path}")
            time.sleep(0.02)
        with open(endpoints) as f:
            ready = json.load(f)
        # Same ports every time, so clients need no new endpoint; fail loudly if not.
        if ready["api"] != self.endpoint or ready["imdsPort"] != self.imds_port:
            raise RuntimeError(f"roleplane bound {ready}, not the ports asked for")
        self.starts += 1
        self.start_seconds.append(time.monotonic() - began)

    def kill9(self):
        """SIGKILL, then wait for the process to be gone (its sockets closed)."""
        proc = self.proc
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart(self):
        with self.lock:
            self.kill9()
            self.start()

    def stop(self):
        proc = self.proc
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_usage(pid):
    """(VmRSS in KiB, open descriptors, threads) of a live process, or None once it is gone."""
    try:
        rss = threads = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss, fds, threads
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


class Sampler(threading.Thread):
    """Every second: seconds since the run began, server start number, pid, RSS, fds, threads."""

    def __init__(self, server, csv_path, began):
        super().__init__(daemon=True, name="sampler")
        self.server, self.began = server, began
        self.csv = open(csv_path, "w", buffering=1)
        self.csv.write("t,start,pid,rss_kib,fds,threads\n")
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(1.0):
            pid, start = self.server.pid, self.server.starts
            usage = read_usage(pid) if pid else None
            if usage is None or usage[0] is None:
                continue
            row = (round(time.monotonic() - self.began, 1), start, pid) + usage
            self.samples.append(row)
            self.csv.write(",".join(map(str, row)) + "\n")

    def stop(self):
        self.stopping.set()
        self.join()
        self.csv.close()
