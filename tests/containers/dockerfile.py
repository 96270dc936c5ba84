"""The root Dockerfile read as stages (no engine needed), for the tests that check it on paper."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..service_harness import REPO

DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Stage:
    name: str
    base: str  # what it is FROM: another stage's name or ${BASE_IMAGE}
    steps: list[tuple[str, str]]  # (instruction, arguments) after its FROM

    def args(self, instruction: str) -> list[str]:
        return [arg for op, arg in self.steps if op == instruction]


def preamble_and_stages() -> tuple[list[tuple[str, str]], dict[str, Stage]]:
    """The instructions before the first FROM, and every stage by name, in file order."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]
    preamble: list[tuple[str, str]] = []
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for op, arg in instructions:
        if op == "FROM":
            base, _, name = arg.partition(" AS ")
            current = stages[name] = Stage(name=name, base=base, steps=[])
        elif current is None:
            preamble.append((op, arg))
        else:
            current.steps.append((op, arg))
    return preamble, stages


def image_stage(name: str) -> list[tuple[str, str]]:
    """Everything an image target inherits: its stage's chain of bases, outermost first, flattened."""
    _, stages = preamble_and_stages()
    chain: list[Stage] = []
    stage: Stage | None = stages[name]
    while stage is not None:
        chain.insert(0, stage)
        stage = stages.get(stage.base)
    return [step for s in chain for step in s.steps]
