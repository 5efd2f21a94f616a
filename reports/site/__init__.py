"""The offline CS site (reports.site.build)."""
