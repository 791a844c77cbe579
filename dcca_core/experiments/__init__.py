"""Chapter pipelines: the steps a chapter runs, kept here so notebooks hold narrative, calls and plots."""
