"""How a run behaves as a process on its host: one writer at a time (a lock the kernel
releases when the process dies), children that die with it, owner-only files, and the
read-only copy of the warehouse readers use. No Dagster here: orchestration wires it."""
