"""The built-in demo source: a seeded simulator of a B2B SaaS company's exports, with
ground truth kept apart for tests and benchmarks."""

from simulator.generate import GenerationResult, generate
from simulator.spec import SimulationSpec, spec_from_config

__all__ = ["GenerationResult", "SimulationSpec", "generate", "spec_from_config"]
