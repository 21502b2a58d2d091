"""Secrets in store URLs, in every form redis-py accepts, never reach a message or a log
(issue 16, finding 3)."""

from __future__ import annotations

import logging

import pytest

from beatdebate_server.logs import JsonFormatter, TextFormatter
from beatdebate_server.redaction import redact_text, redact_url

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(("url", "shown"), [
    (f"redis://:{SECRET}@10.0.0.5:6390/5", "redis://***@10.0.0.5:6390/5"),
    (f"redis://alice:{SECRET}@10.0.0.5:6390/5", "redis://***@10.0.0.5:6390/5"),
    (f"redis://{SECRET}@10.0.0.5:6390/5", "redis://***@10.0.0.5:6390/5"),
    (f"rediss://alice:{SECRET}@cache.example:6380/0?ssl_cert_reqs=none",
     "rediss://***@cache.example:6380/0?ssl_cert_reqs=none"),
    (f"redis://10.0.0.5:6390/5?password={SECRET}", "redis://10.0.0.5:6390/5?password=***"),
    (f"redis://10.0.0.5:6390/5?username={SECRET}&password={SECRET}&db=2",
     "redis://10.0.0.5:6390/5?username=***&password=***&db=2"),
    (f"redis://10.0.0.5/0?Password={SECRET}", "redis://10.0.0.5/0?Password=***"),
    (f"redis://h/0?socket_timeout=1&password={SECRET.replace('-', '%2D')}",
     "redis://h/0?socket_timeout=1&password=***"),
    (f"unix://alice:{SECRET}@/run/redis.sock?db=1&password={SECRET}",
     "unix://***@/run/redis.sock?db=1&password=***"),
    (f"redis://h/0?ssl_password={SECRET}", "redis://h/0?ssl_password=***"),
    (f"redis://h/0#{SECRET}", "redis://h/0#***"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("memory", "memory"),
])
def test_every_form_of_secret_is_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert SECRET not in redact_url(url)


def test_urls_inside_text_are_redacted() -> None:
    text = (f"Redis at redis://u:{SECRET}@h:1/0?password={SECRET} is unavailable: "
            f"ConnectionError: cannot reach rediss://:{SECRET}@other:2/3.")
    redacted = redact_text(text)
    assert SECRET not in redacted
    assert redacted == ("Redis at redis://***@h:1/0?password=*** is unavailable: "
                        "ConnectionError: cannot reach rediss://***@other:2/3.")
    assert redact_text("session created") == "session created"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_log_lines_never_carry_a_store_secret(formatter: logging.Formatter) -> None:
    # Whatever a message or an exception says (redis-py's own texts included).
    try:
        raise ConnectionError(f"Error connecting to redis://:{SECRET}@h:1/0")
    except ConnectionError as exc:
        record = logging.LogRecord("beatdebate.server", logging.ERROR, __file__, 1,
                                   "session store unavailable: %s",
                                   (f"redis://h:1/0?password={SECRET}",), (type(exc), exc,
                                                                           exc.__traceback__))
    record.store = f"redis://alice:{SECRET}@h:1/0"
    line = formatter.format(record)
    assert SECRET not in line
    assert "session store unavailable: redis://h:1/0?password=***" in line
