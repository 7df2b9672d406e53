#!/usr/bin/env python3
"""Writes the compact data file of AWS managed policies from the npm package's JSON.

Usage: convert.py managedPolicies.json "<package> <version>" policies.bin

Layout (read by crates/roleplane/src/aws_policies/data.rs):
  8 bytes   magic b"RPAWSMP1"
  4 bytes   little-endian length M of the metadata frame
  M bytes   zstd frame: the metadata text (UTF-8, one line each)
              line 1: the source, "<package> <version>"
              then one line per policy, sorted by lower-cased name:
              name TAB path TAB created TAB updated TAB default version TAB
              frame offset TAB frame length TAB versions
              where versions are "vN,created,index" joined by ";", oldest first, and index
              points into the policy's documents
  ...       one zstd frame per policy (offset from the end of the metadata frame): its
            distinct documents, each as JSON.stringify(document, null, 4) would write it,
            separated by NUL bytes (JSON text never holds a raw NUL)
"""

import json
import struct
import subprocess
import sys

PREFIX = "arn:aws:iam::aws:policy"


def compress(data: bytes) -> bytes:
    return subprocess.run(
        # The pledged size goes into the frame header, so a reader can decode in one pass into
        # a buffer of that size (no window buffer).
        ["zstd", "-19", "-q", "-c", "--no-check", f"--stream-size={len(data)}"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


def version_number(version_id: str) -> int:
    return int(version_id[1:])


def main() -> None:
    source_json, source, out = sys.argv[1:4]
    with open(source_json, encoding="utf-8") as f:
        policies = json.load(f)
    lines = [source]
    frames = bytearray()
    for name in sorted(policies, key=lambda n: (n.lower(), n)):
        policy = policies[name]
        arn = policy["arn"]
        assert arn.startswith(PREFIX + "/") and arn.endswith("/" + name), arn
        path = arn[len(PREFIX) : len(arn) - len(name)]
        documents: list[str] = []
        versions = []
        for version_id in sorted(policy["versions"], key=version_number):
            version = policy["versions"][version_id]
            text = json.dumps(version["document"], indent=4, ensure_ascii=False)
            if text not in documents:
                documents.append(text)
            versions.append(f"{version_id},{version['createdDate']},{documents.index(text)}")
        default = policy["latestVersionId"]
        assert default in policy["versions"], name
        frame = compress("\0".join(documents).encode("utf-8"))
        fields = [
            name,
            path,
            policy["createdDate"],
            policy["lastUpdatedDate"],
            default,
            str(len(frames)),
            str(len(frame)),
            ";".join(versions),
        ]
        assert all("\t" not in f and "\n" not in f for f in fields), name
        lines.append("\t".join(fields))
        frames += frame
    metadata = compress(("\n".join(lines) + "\n").encode("utf-8"))
    with open(out, "wb") as f:
        f.write(b"RPAWSMP1")
        f.write(struct.pack("<I", len(metadata)))
        f.write(metadata)
        f.write(frames)


if __name__ == "__main__":
    main()
