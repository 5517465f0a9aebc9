"""The words of the settings that the kiosk, the wire protocol and the central server share, declared once.

Each is a `StrEnum`, so a member is also its plain string: it compares equal to the word in a TOML file, a JSON
body or a database column, and serialises as that word. The kiosk's configuration, `sync.protocol` and `server`
all take their choices from here; nothing else spells them.
"""

from __future__ import annotations

from enum import StrEnum


class StationMode(StrEnum):
    """What a scan records: always an entry, always an exit, or (auto) the opposite of the person's last one."""

    ENTRY = "entry"
    EXIT = "exit"
    AUTO = "auto"


class CapacityAction(StrEnum):
    """What happens at capacity: refuse the entry, or admit it with a warning."""

    BLOCK = "block"
    WARN = "warn"


class SymptomPolicy(StrEnum):
    """What a declaration reporting symptoms does, on every path (personal QR, questionnaire, assisted entry):
    refuse the entry, or record it flagged with an alert for the staff."""

    REFUSE = "refuse"
    ALERT = "alert"


class QuestionnairePolicy(StrEnum):
    """When the health questionnaire is asked: never, for guard-typed (assisted) entries, or at every entry."""

    NEVER = "never"
    ASSISTED = "assisted"
    ALWAYS = "always"

    @classmethod
    def parse(cls, word: object) -> QuestionnairePolicy:
        """The policy a word names, including the words servers before revision 0004 sent (off, ask, require)."""
        text = str(word)
        return cls(_LEGACY_QUESTIONNAIRE_WORDS.get(text, text))


# The central server's words before revision 0004 (server/migrations/versions/0004_one_vocabulary.py maps the
# stored ones); read from a server not yet upgraded, never written.
_LEGACY_QUESTIONNAIRE_WORDS = {"off": "never", "ask": "assisted", "require": "always"}


class SafetyLevel(StrEnum):
    """A venue's self-assessed COVID safety level (the provinces' four colours); "not assessed" is no level."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class CredentialKind(StrEnum):
    """The personal QR formats a station can accept (`station.accepted_credentials`)."""

    CCCD = "cccd"
    PCCOVID = "pccovid"
    PERSONAL = "personal"
    DCC = "dcc"


def words(choices: type[StrEnum]) -> tuple[str, ...]:
    """The plain words of an enum, in declaration order (for argparse choices and error messages)."""
    return tuple(member.value for member in choices)
