"""The JVM side: sparkembed-udfs.jar's functions (``udfs``) and the driver JVM's stderr."""
