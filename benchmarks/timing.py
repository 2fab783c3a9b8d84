"""Timing helpers shared by the benchmark scripts."""
import os
import platform
import time


def machine_line(details: str) -> str:
    """The machine a benchmark ran on, for the first line of its report."""
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"machine: {os.cpu_count()} CPUs (nproc {nproc}), Python {platform.python_version()}"
            f" ({platform.python_implementation()}), {platform.platform()}; {details}")


def best_of(runs: int, fn) -> float:
    """The fastest of `runs` calls of `fn`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
