"""The sliding-window limiter behind the HTTP rate limit (the HTTP side: tests/graphql/test_http.py)."""

from __future__ import annotations

from backend.rate_limit import SlidingWindowLimiter


class Clock:
    def __init__(self, now: float = 600.0) -> None:  # the start of window 10
        self.now = now

    def __call__(self) -> float:
        return self.now


def _hits(limiter: SlidingWindowLimiter, key: str, count: int) -> list[int | None]:
    return [limiter.hit(key) for _ in range(count)]


def test_admits_the_limit_then_refuses_until_the_window_ends() -> None:
    # given a limit of 5 per minute, at the start of a window
    clock = Clock()
    limiter = SlidingWindowLimiter(5, clock=clock)
    # when one key hits 6 times
    results = _hits(limiter, "10.0.0.1", 6)
    # then 5 are admitted and the 6th is told to wait for the window's end and until enough of
    # it has slid out (60 s, then 60 * (1 - 4/5) = 12 s)
    assert results[:5] == [None] * 5
    assert results[5] == 72


def test_refused_hits_are_not_counted() -> None:
    # given a key at its limit
    clock = Clock()
    limiter = SlidingWindowLimiter(2, clock=clock)
    _hits(limiter, "a", 2)
    # when it keeps hitting while refused, and the next window comes
    refused = _hits(limiter, "a", 50)
    clock.now += 60
    # then the refusals left no trace: the previous window still counts 2, weighted by 1 at its
    # start, so a hit fits once half of it slid out
    assert all(wait is not None for wait in refused)
    assert limiter.hit("a") == 30
    clock.now += 30
    assert limiter.hit("a") is None


def test_the_previous_window_counts_for_the_part_still_within_the_last_minute() -> None:
    # given 10 hits in one window with a limit of 10
    clock = Clock()
    limiter = SlidingWindowLimiter(10, clock=clock)
    _hits(limiter, "a", 10)
    # when a quarter of the next window has passed, three quarters of the 10 still count (7.5)
    clock.now += 75
    # then 2 more hits fit (7.5 + 2 = 9.5), a third does not (10.5) until 3 s later, when the
    # previous window weighs 7 (60 s * (1 - 7/10) = 18 s into the window)
    assert _hits(limiter, "a", 3) == [None, None, 3]
    clock.now += 3
    assert limiter.hit("a") is None


def test_keys_are_counted_apart() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, clock=clock)
    assert limiter.hit("a") is None
    assert limiter.hit("b") is None
    assert limiter.hit("a") is not None


def test_keys_idle_for_two_windows_are_forgotten() -> None:
    # given 100 keys with one hit each
    clock = Clock()
    limiter = SlidingWindowLimiter(3, clock=clock)
    for n in range(100):
        limiter.hit(f"10.0.0.{n}")
    # when one key alone hits in each of the next two windows
    clock.now += 60
    limiter.hit("10.0.0.1")
    assert limiter.tracked_keys == 100
    clock.now += 60
    limiter.hit("10.0.0.1")
    # then only that key is still tracked, and its counts carried on: the previous window's hit
    # and this one's leave room for one more
    assert limiter.tracked_keys == 1
    assert _hits(limiter, "10.0.0.1", 3) == [None, 60, 60]
