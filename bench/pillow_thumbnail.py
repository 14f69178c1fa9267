"""The Pillow anchor of thumbnail_bench.py: one process thumbnails every input.

Usage: pillow_thumbnail.py OUT_DIR INPUT...

It follows the benchmark's stated recipe exactly -- Image.open, img.thumbnail((256, 256)),
img.save(quality=80) -- so it does not auto-rotate, convert colour profiles or flatten alpha
(Pillow refuses to write RGBA as JPEG, and that failure is reported, not worked around).
One JSON line per input on stdout, like `photopipe thumbnail --json`.
"""

import json
import sys
from pathlib import Path

from PIL import Image


def main() -> int:
    out_dir = Path(sys.argv[1])
    failed = 0
    for name in sys.argv[2:]:
        output = out_dir / (Path(name).stem + ".jpg")
        try:
            img = Image.open(name)
            img.thumbnail((256, 256))
            img.save(output, quality=80)
            result = {"input": name, "ok": True, "output": str(output)}
        except Exception as exc:  # any failure is one file's result, as in the other tools
            failed += 1
            result = {"input": name, "ok": False, "error": {"kind": type(exc).__name__, "message": str(exc)}}
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
