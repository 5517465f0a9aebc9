#!/usr/bin/env bash
# Re-extract the station's strings (lupdate keeps existing translations), fill the Vietnamese ones from
# vi_translations.py, and compile the .qm that the station loads. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin
"$BIN/pyside6-lupdate" $(find ui -name "*.py" | sort) -ts assets/i18n/qr_checkpoint_vi.ts -target-language vi -no-obsolete
"$BIN/python" assets/i18n/fill_ts.py
"$BIN/pyside6-lrelease" assets/i18n/qr_checkpoint_vi.ts -qm assets/i18n/qr_checkpoint_vi.qm
