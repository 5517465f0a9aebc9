"""Pours vi_translations.VI into qr_checkpoint_vi.ts; prints any source text still untranslated."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from vi_translations import VI  # noqa: E402

TS = Path(__file__).with_name("qr_checkpoint_vi.ts")


def main() -> int:
    tree = ET.parse(TS)
    missing = []
    for message in tree.iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        assert translation is not None
        if source in VI:
            translation.text = VI[source]
            translation.attrib.pop("type", None)
        elif source:
            missing.append(source)
    tree.write(TS, encoding="utf-8", xml_declaration=True)
    for source in sorted(set(missing)):
        print(f"untranslated: {source}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
