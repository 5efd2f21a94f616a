"""Demo data: a seeded generator of a B2B SaaS company's exports, with ground truth."""

from simulator.demo import DemoSpec, generate_demo

__all__ = ["DemoSpec", "generate_demo"]
