# Station conveniences (see docs/station.md).
PY ?= .venv/bin/python

.PHONY: screenshots translations sounds test-ui bench-ui demo

demo:
	.venv/bin/kiosk --demo

screenshots:
	./scripts/screenshots.sh

translations:
	./assets/i18n/build.sh

sounds:
	$(PY) assets/make_sounds.py

test-ui:
	$(PY) -m pytest -q tests/test_ui_*.py

bench-ui:
	$(PY) benchmarks/bench_ui.py
