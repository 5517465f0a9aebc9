"""`python -m tests.support.readme_console URL USER PASSWORD ID_NUMBER`: what the README's reader does in a
browser after the walk-through, done with a requests session: log in at URL, trace ID_NUMBER in the console's
form, print the result page's HTML (tests/test_readme.py checks it)."""

from __future__ import annotations

import sys

import requests

from tests.support.console import csrf_token, login_session


def main(base: str, username: str, password: str, id_number: str) -> int:
    with requests.Session() as session:
        answer = login_session(session, base, username, password)
        if answer.status_code != 303:
            print(f"login refused: {answer.status_code}", file=sys.stderr)
            return 1
        form = session.get(f"{base}/console/trace", timeout=30).text
        page = session.post(
            f"{base}/console/trace",
            data={"csrf_token": csrf_token(form), "id_number": id_number},
            timeout=60,
        )
        print(page.text)
        return 0 if page.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
