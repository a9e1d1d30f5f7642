"""Commands that are not stages: ``doctor`` (the environment), ``similar`` (queries on a
vector table), ``run`` (a pipeline of stages)."""
