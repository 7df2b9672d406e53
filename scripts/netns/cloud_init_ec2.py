#!/usr/bin/python3
"""cloud-init's own EC2 data source, run once as cloud-init runs it at boot, reporting what it got.

Run with Debian's /usr/bin/python3 (cloud-init is a Debian package, not on PyPI) inside an
instance's network namespace; scripts/netns/clients.sh does that. Nothing here speaks HTTP:
DataSourceEc2.get_data() identifies the platform, asks for a token or not, picks an API version,
crawls meta-data/, user-data and dynamic/ with cloud-init's url_helper, and network_config turns
network/interfaces/macs/ into netplan v2 for this namespace's interfaces. The harness only
watches the requests go by (method, path, whether a token went with it) to report them.

Prints one JSON object on stdout. Usage: cloud_init_ec2.py MAX_WAIT_SECONDS
"""

import hashlib
import json
import sys
import tempfile
from urllib.parse import urlsplit

import requests
from cloudinit import distros, helpers, net
from cloudinit.sources import DataSourceEc2 as ec2

TOKEN_HEADER = "X-aws-ec2-metadata-token"

seen = []
_request = requests.Session.request


def watched_request(session, method, url, *args, **kwargs):
    """requests' own Session.request, noting each request on the way out."""
    headers = kwargs.get("headers") or {}
    seen.append(
        {
            "method": method,
            "path": urlsplit(url).path,
            "token": TOKEN_HEADER in headers,
        }
    )
    return _request(session, method, url, *args, **kwargs)


def main():
    max_wait = int(sys.argv[1])
    requests.Session.request = watched_request
    work = tempfile.mkdtemp(prefix="cloud-init-")
    # Everything cloud-init writes (instance-data.json) stays in this run's own directory.
    paths = helpers.Paths({"cloud_dir": work + "/cloud", "run_dir": work + "/run"})
    sys_cfg = {
        "datasource": {
            "Ec2": {
                # EC2's IPv4 address only: the other defaults (the IPv6 address, a DNS name)
                # would need name lookups this namespace cannot make.
                "metadata_urls": ["http://169.254.169.254"],
                "max_wait": max_wait,
                "timeout": 5,
            }
        }
    }
    distro = distros.fetch("debian")("debian", {}, paths)
    ds = ec2.DataSourceEc2(sys_cfg, distro, paths)
    cloud_name = ds.cloud_name
    found = ds.get_data()
    report = {
        "cloud_name": cloud_name,
        "found": found,
        "requests": seen[:],
        # The interfaces cloud-init matches network metadata against, by MAC.
        "interfaces": net.get_interfaces_by_mac(),
    }
    if found:
        user_data = ds.get_userdata_raw()
        if isinstance(user_data, str):
            user_data = user_data.encode()
        report.update(
            {
                "api_version": ds._crawled_metadata.get("_metadata_api_version"),
                "instance_id": ds.get_instance_id(),
                "region": ds.region,
                "availability_zone": ds.availability_zone,
                "user_data_sha256": hashlib.sha256(user_data or b"").hexdigest(),
                "network_config": ds.network_config,
            }
        )
    json.dump(report, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
