"""The package's version: the libworkflow version it was made with (the
CMake project's VERSION; a test checks both and the loaded library's)."""

__version__ = "0.1.0"
