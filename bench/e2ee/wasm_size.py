"""The WebAssembly the browser fetches when an encrypted conversation is
first opened (the parts `e2ee::client::run` needs, from the split's
manifest), beside what every page loads; raw and brotli-compressed."""
import json
import os
import sys

pkg = sys.argv[1]
manifest = json.load(open(os.path.join(pkg, "__wasm_split_manifest.json")))
parts = next(files for name, files in manifest.items() if name.startswith("run_"))


def size(name):
    path = os.path.join(pkg, name)
    return os.path.getsize(path + ".wasm"), os.path.getsize(path + ".wasm.br")


raw, br = map(sum, zip(*(size(p) for p in parts)))
main = next(f[: -len(".wasm")] for f in os.listdir(pkg) if f.startswith("parley.") and f.endswith(".wasm"))
main_raw, main_br = size(main)
print(f"WebAssembly of end-to-end encryption ({len(parts)} parts): {raw / 1024:,.0f} KB raw, {br / 1024:,.0f} KB brotli")
print(f"WebAssembly every page loads: {main_raw / 1024:,.0f} KB raw, {main_br / 1024:,.0f} KB brotli")
