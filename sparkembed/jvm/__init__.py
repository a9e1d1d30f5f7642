"""The JVM side and worker tuning: sparkembed-udfs.jar's functions (``udfs``), the class-data
archive that speeds up JVM start (``class_archive``), Python worker memory (``worker``)."""
