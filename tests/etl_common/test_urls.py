import pytest

from etl_common.urls import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pa%40ss@host:8080/v1?x=1", "http://host:8080/v1?x=1"),
        ("https://token@example.com", "https://example.com"),
        ("http://127.0.0.1:9", "http://127.0.0.1:9"),
        ("http://[::1]:80/p", "http://[::1]:80/p"),
        ("http://h/p?api_key=s3cret&x=1", "http://h/p?api_key=REDACTED&x=1"),
        ("http://h/p?Token=abc", "http://h/p?Token=REDACTED"),
        ("gs://bucket/prefix", "gs://bucket/prefix"),
        ("/var/data/out", "/var/data/out"),
        ("not a url", "not a url"),
    ],
)
def test_redact_removes_credentials_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_redact_text_covers_every_url_and_known_userinfo_anywhere() -> None:
    from etl_common.urls import redact_text

    text = (
        "ConnectError on http://u:p@h:1/x?token=t; retried 'u:p@h:1' "
        "and gs://bucket/k, see https://example.com/doc"
    )
    assert redact_text(text, "http://u:p@h:1") == (
        "ConnectError on http://h:1/x?token=REDACTED; retried 'h:1' "
        "and gs://bucket/k, see https://example.com/doc"
    )
