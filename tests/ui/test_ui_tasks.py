"""The task runner: a value or an exception comes back on the GUI thread (a real thread pool), or at once with an
inline executor; pipeline jobs run on the pipeline thread."""

from __future__ import annotations

import threading

from tests.support.station import InlineExecutor
from ui.runtime.tasks import TaskRunner


def test_background_value_and_error_come_back_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    ran_on: list[threading.Thread] = []
    done: list[tuple[str, object, threading.Thread]] = []

    def work() -> int:
        ran_on.append(threading.current_thread())
        return 42

    def fail() -> int:
        raise ValueError("server said no")

    runner.run_in_background(work, lambda value: done.append(("value", value, threading.current_thread())))
    runner.run_in_background(fail, on_error=lambda error: done.append(("error", error, threading.current_thread())))
    qtbot.waitUntil(lambda: len(done) == 2, timeout=5000)
    runner.shutdown()
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert {kind for kind, _value, _thread in done} == {"value", "error"}
    assert all(thread is threading.main_thread() for _kind, _value, thread in done)
    by_kind = {kind: value for kind, value, _thread in done}
    assert by_kind["value"] == 42 and isinstance(by_kind["error"], ValueError)


def test_inline_executor_calls_back_at_once(qapp) -> None:
    runner = TaskRunner(InlineExecutor())
    done: list[int] = []
    runner.run_in_background(lambda: 7, done.append)
    assert done == [7]


def test_a_failing_task_without_on_error_is_logged_not_raised(qapp, caplog) -> None:
    runner = TaskRunner(InlineExecutor())
    runner.run_in_background(lambda: 1 / 0)
    assert "background task failed" in caplog.text
