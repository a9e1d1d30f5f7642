"""The JVM side: sparkembed-udfs.jar's functions (``udfs``)."""
