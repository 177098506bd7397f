"""The local FC emulator: run a function's package exactly as Function Compute runs it."""

from __future__ import annotations

from infra.local.emulator import FunctionStartError, Instance, Invocation, Usage, timer_event
from infra.local.github_double import DoubleFork, GitHubDouble
from infra.local.stack import FunctionSpec, load_function, load_functions
from infra.stack import StackError

__all__ = [
    "DoubleFork",
    "FunctionSpec",
    "FunctionStartError",
    "GitHubDouble",
    "Instance",
    "Invocation",
    "StackError",
    "Usage",
    "load_function",
    "load_functions",
    "timer_event",
]
