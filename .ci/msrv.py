#!/usr/bin/env python3
"""The declared rust-version must be the real MSRV: no dependency may need a newer Rust.

Only one toolchain can be installed here, so instead of building with the old compiler this
reads every package's `rust-version` from `cargo metadata` and fails when a dependency declares
a newer one than the workspace (or when the workspace declares a newer one than any need)."""
import json
import subprocess
import sys

meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--locked"],
    check=True, capture_output=True, text=True).stdout)
members = set(meta["workspace_members"])


def version(text):
    parts = [int(x) for x in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


ours = {version(p["rust_version"]) for p in meta["packages"]
        if p["id"] in members and p.get("rust_version")}
if len(ours) != 1:
    sys.exit(f"msrv: workspace members declare different rust-versions: {sorted(ours)}")
declared = ours.pop()
needed = max((version(p["rust_version"]), p["name"]) for p in meta["packages"]
             if p["id"] not in members and p.get("rust_version"))
if needed[0] > declared:
    sys.exit(f"msrv: {needed[1]} needs Rust {needed[0]}, but the workspace declares {declared}")
if needed[0] < declared:
    sys.exit(f"msrv: the workspace declares {declared}, but no dependency needs more than "
             f"{needed[0]} ({needed[1]}): lower it, or say why in Cargo.toml")
print(f"msrv: rust-version {'.'.join(map(str, declared))} = what {needed[1]} needs")
