"""The health declaration ("khai báo y tế"): large yes/no buttons per question, optional temperature.

Emits `finished(Answers)` or `cancelled()`; the caller records the event with `Answers.flags` and
`Answers.details`. Any "yes" (or a fever temperature) flags the event and the visitor is asked to see the staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.runtime.qt_compat import emit

CTX = "Questionnaire"
FEVER_C = 37.5
MIN_C, MAX_C = 34.0, 42.0  # what a thermometer at the door can read on a living visitor

# (key, English source text); QT_TRANSLATE_NOOP marks them for lupdate, translate() shows them.
QUESTIONS: tuple[tuple[str, object], ...] = (  # QT_TRANSLATE_NOOP returns the text; its stub says object
    ("fever", QT_TRANSLATE_NOOP("Questionnaire", "Fever")),
    ("cough", QT_TRANSLATE_NOOP("Questionnaire", "Cough")),
    ("breath", QT_TRANSLATE_NOOP("Questionnaire", "Shortness of breath")),
    ("throat", QT_TRANSLATE_NOOP("Questionnaire", "Sore throat")),
    ("taste_smell", QT_TRANSLATE_NOOP("Questionnaire", "Loss of taste or smell")),
    ("contact", QT_TRANSLATE_NOOP("Questionnaire", "Contact with a confirmed or suspected case")),
    ("travel", QT_TRANSLATE_NOOP("Questionnaire", "Travel from an area with an outbreak")),
)


@dataclass(frozen=True)
class Answers:
    answers: dict[str, bool]
    temperature_c: float | None = None

    @property
    def any_yes(self) -> bool:
        fever = self.temperature_c is not None and self.temperature_c >= FEVER_C
        return any(self.answers.values()) or fever

    @property
    def flags(self) -> tuple[str, ...]:
        return ("symptoms",) if self.any_yes else ()

    @property
    def details(self) -> dict[str, object]:
        declaration: dict[str, object] = {"answers": dict(self.answers)}
        if self.temperature_c is not None:
            declaration["temperature_c"] = round(self.temperature_c, 1)
        return {"declaration": declaration}


class QuestionnairePage(QWidget):
    finished = Signal(object)  # Answers
    cancelled = Signal()
    touched = Signal()  # an answer or the temperature changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("questionnaire")
        self.who = ""  # the visitor's masked name, shown in the title
        self.with_temperature = False
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.waiting = QLabel()  # "next visitor waiting": their scan is queued, they need not scan again
        self.waiting.setObjectName("warningText")
        self.waiting.hide()
        self.waiting_count = 0
        self.groups: dict[str, QButtonGroup] = {}
        self.yes_buttons: dict[str, QPushButton] = {}
        self.no_buttons: dict[str, QPushButton] = {}
        self.labels: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.waiting)
        layout.addWidget(self._scroll(self._question_grid()), 1)
        layout.addLayout(self._buttons())
        self.start()
        self.retranslate()

    def _question_grid(self) -> QGridLayout:
        """The temperature (shown in the daily health update mode), then one row per question (label, Yes, No)."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        for row, (key, _text) in enumerate(QUESTIONS, start=1):
            self._add_question(grid, row, key)
        self.temperature_label = QLabel()
        # Empty until someone types what the thermometer shows: a pre-filled 36.5 could be confirmed unmeasured.
        self.temperature = QLineEdit()
        self.temperature.setValidator(QDoubleValidator(MIN_C, MAX_C, 1, self.temperature))
        self.temperature.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
        self.temperature.setMinimumWidth(140)
        self.temperature.textChanged.connect(self._update_done)
        # First, not last: at 800×480 the last row is below the fold, and Confirm waits for the temperature.
        grid.addWidget(self.temperature_label, 0, 0)
        grid.addWidget(self.temperature, 0, 1, 1, 2)
        return grid

    def _add_question(self, grid: QGridLayout, row: int, key: str) -> None:
        label = QLabel()
        label.setWordWrap(True)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        yes, no = QPushButton(), QPushButton()
        group = QButtonGroup(self)
        for button in (yes, no):
            button.setCheckable(True)
            button.setObjectName("answerButton")
            group.addButton(button)
        no.setChecked(False)
        group.buttonToggled.connect(self._update_done)
        grid.addWidget(label, row, 0)
        grid.addWidget(yes, row, 1)
        grid.addWidget(no, row, 2)
        self.groups[key], self.yes_buttons[key], self.no_buttons[key], self.labels[key] = group, yes, no, label

    @staticmethod
    def _scroll(grid: QGridLayout) -> QScrollArea:
        body = QWidget()
        body.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        return scroll

    def _buttons(self) -> QHBoxLayout:
        self.done_button = QPushButton()
        self.done_button.setObjectName("primaryButton")
        self.cancel_button = QPushButton()
        self.done_button.clicked.connect(self._finish)
        self.cancel_button.clicked.connect(self.cancelled)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.done_button)
        return buttons

    def start(self, with_temperature: bool = False, who: str = "") -> None:
        """Clear the answers for a new visitor (`who`: their masked name, shown in the title)."""
        self.who = who
        self.with_temperature = with_temperature
        for group in self.groups.values():
            group.setExclusive(False)
            for button in group.buttons():
                button.setChecked(False)
            group.setExclusive(True)
        self.temperature.clear()
        self.temperature.setVisible(with_temperature)
        self.temperature_label.setVisible(with_temperature)
        self.retranslate()

    def set_waiting(self, count: int) -> None:
        self.waiting_count = count
        self.waiting.setText(self.tr("Next visitor waiting: %1 (no need to scan again)").replace("%1", str(count)))
        self.waiting.setVisible(count > 0)

    def answer(self, key: str, yes: bool) -> None:
        (self.yes_buttons if yes else self.no_buttons)[key].click()

    def answer_all_no(self) -> None:
        for key in self.no_buttons:
            self.answer(key, False)

    def temperature_c(self) -> float | None:
        """The typed temperature (a comma works as the decimal mark), None when empty or not a body temperature."""
        try:
            value = float(self.temperature.text().strip().replace(",", "."))
        except ValueError:
            return None
        return value if MIN_C <= value <= MAX_C else None

    def current(self) -> Answers:
        answers = {key: self.yes_buttons[key].isChecked() for key in self.yes_buttons}
        return Answers(answers, self.temperature_c() if self.with_temperature else None)

    def complete(self) -> bool:
        answered = all(group.checkedButton() is not None for group in self.groups.values())
        return answered and (not self.with_temperature or self.temperature_c() is not None)

    def _update_done(self, *_args: object) -> None:
        self.done_button.setEnabled(self.complete())
        emit(self.touched)  # someone is answering: the flow's timeout starts again

    def _finish(self) -> None:
        if self.complete():
            emit(self.finished, self.current())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Health declaration") + (f": {self.who}" if self.who else ""))
        self.subtitle.setText(self.tr("In the last 14 days, have you had any of the following?"))
        for key, text in QUESTIONS:
            self.labels[key].setText(QCoreApplication.translate(CTX, str(text)))
            self.yes_buttons[key].setText(self.tr("Yes"))
            self.no_buttons[key].setText(self.tr("No"))
        self.temperature_label.setText(self.tr("Body temperature (°C)"))
        self.done_button.setText(self.tr("Confirm"))
        self.cancel_button.setText(self.tr("Cancel"))
        self._update_done()
