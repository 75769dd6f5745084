"""What the model reads: the text with cues that identify a source, not a claim, removed.

Mirrored exactly by `infodemic_classifier::prepare_text` in Rust (the parity test runs both on
the same texts, and the patterns below are written in the syntax both regex engines share: no
look-around). Training, evaluation and serving all go through it, so the model never sees a URL,
an @handle or a '#' and cannot learn them as label cues (CONSTRAINT's reliable class is official
handles' tweets full of links).

  - URLs (http://, https://, www.) are removed;
  - @handles are removed (not e-mail addresses: the '@' must not follow a word character);
  - '#' before a word is dropped, the word kept (#VaccinesWork -> VaccinesWork);
  - runs of whitespace become one space; leading and trailing space is trimmed.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(?i)(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"(^|[^\w@])@\w+")
_HASH = re.compile(r"(^|[^\w#])#(\w)")
_WS = re.compile(r"\s+")


def prepare(text: str) -> str:
    t = _URL.sub(" ", text)
    t = _HANDLE.sub(r"\1 ", t)
    t = _HASH.sub(r"\1\2", t)
    return _WS.sub(" ", t).strip()
