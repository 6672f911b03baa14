"""maskgate's detection-quality evaluation, run with `make eval`: labelled samples the project
generates itself, scored per type against what maskgate's own engine detects."""
