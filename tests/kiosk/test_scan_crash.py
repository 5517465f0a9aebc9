"""A `kiosk scan` killed with SIGKILL at random moments loses no printed decision and duplicates no event."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from kiosk.demo import demo_people
from tests.support.media import write_video

KILLS = 20


def wait_for_decisions(out, count: int, child: subprocess.Popen, errors, timeout: float = 60.0) -> None:
    """Return once the child has printed `count` decisions; fail with its stderr if it ends first."""
    deadline = time.monotonic() + timeout
    while out.read_text().count("\n") < count:
        if child.poll() is not None:
            pytest.fail(
                f"kiosk scan ended (exit {child.returncode}) before {count} decisions: {errors.read_text()[-2000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"kiosk scan printed fewer than {count} decisions in {timeout} s")
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_at_random_moments(tmp_path):
    people = demo_people(90, seed=11)
    script = [(None, 0.3)]
    for person in people:
        script += [(person.payload, 0.6), (None, 0.4)]
    video = write_video(tmp_path / "crowd.avi", script, fps=10)
    db = tmp_path / "events.sqlite3"
    rng = random.Random(2026)
    printed: list[dict] = []
    killed = 0
    for run in range(KILLS):
        start = datetime(2026, 11, 1, 8, 0).astimezone() + timedelta(days=run)  # each run is another day
        out = tmp_path / f"run{run}.jsonl"
        errors = tmp_path / f"run{run}.err"
        with out.open("w") as stdout, errors.open("w") as stderr:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiosk",
                    "scan",
                    "--source",
                    str(video),
                    "--db",
                    str(db),
                    "--start-time",
                    start.isoformat(),
                    "--json",
                ],
                stdout=stdout,
                stderr=stderr,
            )
            # Kill at a moment tied to the scan's progress, not to the clock: a fast machine
            # finishes the whole video in about three seconds, so a timed kill could land after the end.
            wait_for_decisions(out, rng.randint(1, len(people) // 2), child, errors)
            time.sleep(rng.uniform(0.0, 0.15))  # then anywhere inside the next decisions
            still_running = child.poll() is None
            child.send_signal(signal.SIGKILL)
            killed += still_running and child.wait() == -signal.SIGKILL
        printed += [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]

    assert killed == KILLS, f"only {killed} of {KILLS} runs were still scanning when killed"
    recorded = [d for d in printed if d["decision"] in ("entry", "exit")]
    assert recorded, "no run lived long enough to record anything: the test proves nothing"
    with sqlite3.connect(db) as connection:
        assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"
        rows = connection.execute("select uuid, person_key, wall_time_us, direction from events").fetchall()
    uuids = {row[0] for row in rows}
    missing = [d["uuid"] for d in recorded if d["uuid"] not in uuids]
    assert not missing, f"{len(missing)} printed decisions are not in the database"
    assert len(rows) - len(recorded) <= KILLS  # at most the one in flight when each run was killed
    moments = [(row[1], row[2], row[3]) for row in rows]
    assert len(moments) == len(set(moments)), "an event was recorded twice"
    # The database also opens cleanly through the store, with nothing half-written in the outbox.
    from kiosk.store import Store

    with Store.open(db) as store:
        assert store.pending_count() == len(rows)
