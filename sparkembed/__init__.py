"""sparkembed: Spark batch jobs that turn corpora and graphs into embedding vector tables."""

__version__ = "0.1.0"
