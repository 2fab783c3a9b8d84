"""Timing helpers shared by the benchmark scripts."""
import time


def best_of(runs: int, fn) -> float:
    """The fastest of `runs` calls of `fn`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
