"""The arm64 validate and resize (functions/build_lambdas.sh arm64) handling one photo each,
under user-mode qemu (`qemu-aarch64`, Debian's qemu-user, glibc from libc6-arm64-cross),
through cargo-lambda's emulator and moto's S3 like the e2e tests and bench/lambda_bench.py.

Why: CI builds and runs x86_64 (functions/aws/README.md); this shows the deployed
architecture's binaries start, read the object, write the thumbnail and answer. Timings under
an instruction emulator mean nothing and are not reported. Run it with the emulator and moto up:

  bash functions/e2e/emulator.sh bash functions/aws/tests/moto.sh \
      ~/.cache/photopipe-moto-venv/bin/python functions/e2e/arm64_smoke.py [PHOTO]
"""

import os
import sys
import tempfile
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from lambda_bench import Function  # noqa: E402

SYSROOT = "/usr/aarch64-linux-gnu"  # libc6-arm64-cross: the loader and glibc for qemu


def main() -> None:
    photo = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "upload_files" / sorted(
        p.name for p in (REPO / "upload_files").glob("*.jpg"))[0]
    lambda_dir = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/photopipe-target")) / "lambda-arm64"
    s3 = boto3.client("s3", endpoint_url=os.environ["PHOTOPIPE_MOTO_URL"], region_name="us-east-1")
    for bucket in ("arm64-smoke-input", "arm64-smoke-output"):
        s3.create_bucket(Bucket=bucket)
    data = photo.read_bytes()
    head = s3.put_object(Bucket="arm64-smoke-input", Key=photo.name, Body=data)
    upload = {"bucket": "arm64-smoke-input", "key": photo.name, "size": len(data),
              "etag": head["ETag"].strip('"'), "version_id": None, "event_time": "2026-11-28T10:00:00Z"}
    with tempfile.TemporaryDirectory() as bin_dir, tempfile.TemporaryFile() as log:
        # Function spawns bin_dir/<name>: a wrapper that execs the arm64 bootstrap under qemu.
        for name in ("validate", "resize"):
            wrapper = Path(bin_dir) / name
            wrapper.write_text(f'#!/bin/sh\nexec qemu-aarch64 -L {SYSROOT} {lambda_dir / name / "bootstrap"}\n')
            wrapper.chmod(0o755)
        env = {"OUTPUT_BUCKET": "arm64-smoke-output"}
        emulator = os.environ["PHOTOPIPE_LAMBDA_EMULATOR_URL"]
        try:
            with Function(Path(bin_dir), "validate", emulator, env, log) as validate:
                _, _, validation = validate.cold_and_warm({"execution_name": "arm64-smoke", "input": upload})
            with Function(Path(bin_dir), "resize", emulator, env, log) as resize:
                _, _, thumbnail = resize.cold_and_warm(
                    {"execution_name": "arm64-smoke", "input": {**upload, "validation": validation}})
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
    stored = s3.head_object(Bucket="arm64-smoke-output", Key=thumbnail["key"])["ContentLength"]
    assert stored == thumbnail["bytes"], (stored, thumbnail)
    print(f"arm64 under qemu: {photo.name} {validation['width']}x{validation['height']} -> "
          f"{thumbnail['width']}x{thumbnail['height']} {thumbnail['format']}, {stored} bytes "
          f"in s3://arm64-smoke-output/{thumbnail['key']}")


if __name__ == "__main__":
    main()
