"""The cursor-sim specifics the loader hands the shared client: its request-stats families."""

from __future__ import annotations

import pytest

from loader.upstream import endpoint_family


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/analytics/github/prs?page=3&pageSize=500", "/analytics/github/prs"),
        ("/repos/acme/widgets", "/repos/*/*"),
        ("/repos/acme/widgets/pulls?state=all", "/repos/*/*/pulls"),
        ("/repos/acme/widgets/pulls/17/reviews", "/repos/*/*/pulls/*/reviews"),
        ("/repos", "/repos"),
    ],
)
def test_cursor_sim_paths_group_by_family(path: str, family: str) -> None:
    assert endpoint_family(path) == family
