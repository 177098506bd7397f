"""The local FC emulator: run a function's package exactly as Function Compute runs it."""

from __future__ import annotations

from infra.errors import StackError
from infra.local.instance import FunctionStartError, Instance
from infra.local.invocation import Invocation, timer_event
from infra.local.processes import Usage
from infra.local.stack import LocalFunction, load_function, load_functions

__all__ = [
    "FunctionStartError",
    "Instance",
    "Invocation",
    "LocalFunction",
    "StackError",
    "Usage",
    "load_function",
    "load_functions",
    "timer_event",
]
